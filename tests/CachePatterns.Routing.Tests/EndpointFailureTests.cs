using System.Diagnostics;
using CachePatterns.Routing.Tests.Support;
using Xunit.Abstractions;

namespace CachePatterns.Routing.Tests;

/// <summary>Tests that stop servers: each starts its own cluster (a primary and one replica) so the shared one stays whole.</summary>
public sealed class EndpointFailureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string WhoAmI = "SELECT inet_server_port()";
    private PgCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PgCluster.StartAsync(TimeSpan.Zero);
        await _cluster.Primary.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, value text NOT NULL)");
        await _cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_killed_reader_is_ejected_reads_go_to_the_writer_and_it_is_readmitted_when_it_returns()
    {
        var replica = _cluster.Nodes[1];
        await using var router = await Routers.StartAsync(_cluster.Nodes);
        Assert.Equal(replica.Port, Assert.Single(await router.QueryAsync<int>(WhoAmI)));

        await replica.KillAsync();
        var duringOutage = Assert.Single(await router.QueryAsync<int>(WhoAmI));
        await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name).IsEjected, "the stopped replica is ejected");
        var afterEjection = Assert.Single(await router.QueryAsync<int>(WhoAmI));

        await replica.StartAsync();
        await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name) is { IsEjected: false, IsReadable: true }, "the restarted replica is readmitted");
        var afterReturn = Assert.Single(await router.QueryAsync<int>(WhoAmI));

        Assert.Equal(_cluster.Primary.Port, duringOutage);
        Assert.Equal(_cluster.Primary.Port, afterEjection);
        Assert.Equal(replica.Port, afterReturn);
    }

    /// <summary>Endpoints of a host list are named host:port.</summary>
    private static RoutingEndpointState StateOf(RoutingDataSource router, PgNode node) =>
        router.GetEndpointStates().Single(s => s.Name == $"127.0.0.1:{node.Port}");

    [Fact]
    public async Task When_the_primary_dies_and_the_replica_is_promoted_writes_follow_it_without_restart()
    {
        var (primary, replica) = (_cluster.Nodes[0], _cluster.Nodes[1]);
        await using var router = new RoutingDataSource(new RoutingOptions
        {
            ConnectionString = _cluster.HostList,
            ProbeInterval = TimeSpan.FromSeconds(1),
            ProbeTimeout = TimeSpan.FromSeconds(2),
            FailuresBeforeEjection = 2,
        });
        Assert.Equal(primary.Port, await router.ExecuteScalarAsync<int>("INSERT INTO items VALUES (1, 'before') RETURNING inet_server_port()"));
        await _cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

        var watch = Stopwatch.StartNew();
        await primary.KillAsync();
        await replica.PromoteAsync();
        var promotedAfter = watch.Elapsed;
        var failures = new List<Exception>();
        int? writtenOn = null;
        for (var id = 2; writtenOn is null; id++)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"No write succeeded within 60 s of the primary's stop; failures: {string.Join(" | ", failures.Select(f => f.Message))}");
            try
            {
                writtenOn = await router.ExecuteScalarAsync<int>("INSERT INTO items VALUES (@id, 'after') RETURNING inet_server_port()", new { id });
            }
            catch (Exception ex)
            {
                failures.Add(ex);
                await Task.Delay(50);
            }
        }

        output.WriteLine($"failover: primary stopped -> replica promoted in {promotedAfter.TotalMilliseconds:0} ms -> first successful write after {watch.Elapsed.TotalMilliseconds:0} ms ({failures.Count} failed attempts)");
        Assert.Equal(replica.Port, writtenOn);
        Assert.All(failures, f => Assert.True(f is RoutingException, $"Expected a RoutingException, got {f.GetType().Name}: {f.Message}"));
        Assert.Contains(failures, f => ((RoutingException)f).IsSafeToRetry);
        Assert.True(StateOf(router, replica).IsWriter);
        Assert.True(StateOf(router, primary).IsEjected);
        Assert.Equal("before", await replica.ScalarAsync<string>("SELECT value FROM items WHERE id = 1"));
    }
}
