using CachePatterns.Routing.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Host=db1:5432,db2:99999", "invalid port '99999'")]
    [InlineData("Host=db1:5432,,db2", "empty host")]
    [InlineData("Host=db1;NoSuchKey=1", "not a valid PostgreSQL connection string")]
    [InlineData("Username=app", "has no Host")]
    [InlineData("Host=db1,db2;Timeout=0", "Timeout=0, which waits forever")]
    public void A_malformed_host_list_is_named(string connectionString, string expected)
    {
        var error = Validate(new RoutingOptions { ConnectionString = connectionString });

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_numbers_are_named_with_their_values()
    {
        var options = new RoutingOptions
        {
            ProbeInterval = TimeSpan.Zero,
            FailuresBeforeEjection = 0,
            MaxReplicaLagBytes = -1,
            MaxReplicaLag = TimeSpan.FromSeconds(-1),
        };
        options.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = "Host=db1", Weight = 0 });

        var error = Validate(options);

        Assert.Contains("Endpoints[0].Weight must be between 1 and 1000, but was 0", error, StringComparison.Ordinal);
        Assert.Contains("ProbeInterval must be between 10 ms and 1 hour, but was 00:00:00", error, StringComparison.Ordinal);
        Assert.Contains("FailuresBeforeEjection must be between 1 and 100, but was 0", error, StringComparison.Ordinal);
        Assert.Contains("MaxReplicaLagBytes must not be negative, but was -1", error, StringComparison.Ordinal);
        Assert.Contains("MaxReplicaLag must not be negative", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_or_neither_of_host_list_and_endpoints_is_refused_and_one_host_per_endpoint_is_required()
    {
        var both = new RoutingOptions { ConnectionString = "Host=a" };
        both.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = "Host=b" });
        var twoHosts = new RoutingOptions();
        twoHosts.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = "Host=a,b" });

        Assert.Contains("both are set", Validate(both), StringComparison.Ordinal);
        Assert.Contains("neither is set", Validate(new RoutingOptions()), StringComparison.Ordinal);
        Assert.Contains("must name one host", Validate(twoHosts), StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_in_a_bad_connection_string_is_never_in_the_message()
    {
        var error = Validate(new RoutingOptions { ConnectionString = "Host=db1:0;Password=hunter2" });

        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_list_becomes_one_endpoint_per_host_named_host_and_port()
    {
        using var router = new RoutingDataSource(new RoutingOptions { ConnectionString = "Host=127.0.0.1:1,127.0.0.1:2;Username=u;Password=secret" });

        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2"], router.GetEndpointStates().Select(s => s.Name));
        Assert.DoesNotContain("secret", router.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_validates_at_start_up_with_the_settings_name()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns().AddRouting(o => o.ConnectionString = "Host=db1:70000");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<RoutingOptions>>().Get(CachePatternsBuilder.DefaultCacheName));

        Assert.Contains("RoutingOptions 'default'", error.Message, StringComparison.Ordinal);
        Assert.Contains("70000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_resolves_one_router_keyed_by_the_cache_and_unkeyed()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns().AddRouting(o => o.ConnectionString = "Host=127.0.0.1:1");
        using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<RoutingDataSource>(), provider.GetRequiredKeyedService<RoutingDataSource>(CachePatternsBuilder.DefaultCacheName));
    }

    private static string Validate(RoutingOptions options)
    {
        var result = new RoutingOptionsValidator().Validate("test", options);
        Assert.True(result.Failed);
        return result.FailureMessage;
    }
}
