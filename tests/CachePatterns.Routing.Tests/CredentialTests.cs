using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests;

/// <summary>A role that logs in with a password (scram-sha-256), its password supplied by the router's provider and rotated.</summary>
[Collection(SharedCluster.Name)]
public sealed class CredentialTests(ClusterFixture fixture)
{
    [Fact]
    public async Task The_password_provider_is_asked_at_each_physical_open_and_a_rotated_token_is_picked_up()
    {
        const string role = "app";
        await fixture.Primary.ExecuteAsync("DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        await fixture.Primary.ExecuteAsync("ALTER ROLE app PASSWORD 'token-1'");
        await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        var token = "token-1";
        var asked = new List<string>();
        var options = new RoutingOptions
        {
            PasswordProvider = (endpoint, _) =>
            {
                lock (asked)
                {
                    asked.Add(endpoint.Name!);
                }

                return ValueTask.FromResult(token);
            },
        };
        foreach (var node in new[] { fixture.Primary, fixture.FastReplica })
        {
            // No pooling: every open is a physical connection, so every open asks for the password.
            options.Endpoints.Add(new RoutingEndpointOptions
            {
                Name = node.Name,
                ConnectionString = $"Host=127.0.0.1;Port={node.Port};Username={role};Database=postgres;Pooling=false;Timeout=5",
            });
        }

        await using var router = new RoutingDataSource(options);
        await router.RefreshAsync();
        var before = await router.QueryAsync<string>("SELECT current_user");
        var askedBeforeRotation = asked.Count;

        await router.ExecuteAsync("ALTER ROLE app PASSWORD 'token-2'");
        token = "token-2";
        await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        var after = await router.QueryAsync<string>("SELECT current_user");

        Assert.Equal("app", Assert.Single(before));
        Assert.Equal("app", Assert.Single(after));
        Assert.True(askedBeforeRotation >= 3, $"asked {askedBeforeRotation} times (two probes and a read at least)");
        Assert.Contains(fixture.FastReplica.Name, asked);
        Assert.Contains(fixture.Primary.Name, asked);
        Assert.True(asked.Count > askedBeforeRotation);
    }

    [Fact]
    public async Task TLS_settings_of_the_connection_strings_and_the_builder_callback_reach_every_endpoint()
    {
        var configured = new List<string>();
        var validated = 0;
        var options = Routers.Options([fixture.Primary, fixture.FastReplica], o => o.ConfigureNpgsql = (endpoint, builder) =>
        {
            configured.Add(endpoint.Name!);

            // The throw-away server certificate is self-signed: the application's own validation pins its subject.
            builder.UseSslClientAuthenticationOptionsCallback(ssl => ssl.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                Interlocked.Increment(ref validated);
                return certificate?.Subject == "CN=127.0.0.1";
            });
        });
        foreach (var endpoint in options.Endpoints)
        {
            endpoint.ConnectionString += ";SSL Mode=Require";
        }

        await using var router = new RoutingDataSource(options);
        await router.RefreshAsync();
        const string Encrypted = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

        var onReplica = Assert.Single(await router.QueryAsync<bool>(Encrypted));
        var onWriter = await router.ExecuteScalarAsync<bool>(Encrypted);

        Assert.True(onReplica);
        Assert.True(onWriter);
        Assert.Equal([fixture.Primary.Name, fixture.FastReplica.Name], configured.Order());
        Assert.True(validated >= 2, $"the certificate callback ran {validated} times");
    }
}
