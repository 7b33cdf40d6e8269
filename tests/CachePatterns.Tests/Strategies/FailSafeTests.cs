using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class FailSafeTests
{
    private static TestCacheHost FailSafeHost() => TestCacheHost.CacheAside(o =>
    {
        o.Expiration = TimeSpan.FromMinutes(1);
        o.FailSafeMaxStaleness = TimeSpan.FromMinutes(10);
    });

    [Fact]
    public async Task Failing_loader_after_expiry_serves_the_stale_value_and_counts_it()
    {
        using var host = FailSafeHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        using var loads = host.Counter(CacheDiagnostics.Loads);
        host.Database.Seed(1, "last known good");
        await host.Strategy.GetAsync(1);

        host.Time.Advance(TimeSpan.FromMinutes(2));
        host.Database.LoadFailure = new TimeoutException("database down");

        Assert.Equal("last known good", await host.Strategy.GetAsync(1));
        Assert.Equal("last known good", await host.Strategy.GetAsync(1));
        Assert.Equal(2, stale.Total());
        Assert.Equal(2, loads.Total("outcome", "failure"));
        Assert.Equal(3, host.Database.LoadCount);
    }

    [Fact]
    public async Task Stale_value_is_only_a_fallback_a_working_loader_is_asked_first()
    {
        using var host = FailSafeHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);
        host.Database.Seed(1, "v2");

        host.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal("v2", await host.Strategy.GetAsync(1));
        Assert.Equal(0, stale.Total());
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Past_the_staleness_window_the_loader_exception_reaches_the_caller_and_nothing_is_cached()
    {
        using var host = FailSafeHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);

        host.Time.Advance(TimeSpan.FromMinutes(11));
        host.Database.LoadFailure = new TimeoutException("database down");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));
        Assert.Equal(0, stale.Total());

        host.Database.LoadFailure = null;
        host.Database.Seed(1, "fresh");
        Assert.Equal("fresh", await host.Strategy.GetAsync(1));
        Assert.Equal(3, host.Database.LoadCount);
    }

    [Fact]
    public async Task Without_fail_safe_the_loader_exception_reaches_the_caller_after_expiry()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromMinutes(1));
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);

        host.Time.Advance(TimeSpan.FromMinutes(1));
        host.Database.LoadFailure = new TimeoutException("database down");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));
        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));
        Assert.Equal(0, stale.Total());

        host.Database.LoadFailure = null;
        Assert.Equal("old", await host.Strategy.GetAsync(1));
        Assert.Equal(4, host.Database.LoadCount);
    }

    [Fact]
    public async Task Fail_safe_does_not_help_a_key_that_was_never_cached()
    {
        using var host = FailSafeHost();
        host.Database.LoadFailure = new TimeoutException("database down");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task GetMany_serves_stale_values_when_the_bulk_load_fails()
    {
        using var host = FailSafeHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "one").Seed(2, "two");
        await host.Strategy.GetManyAsync([1, 2]);

        host.Time.Advance(TimeSpan.FromMinutes(2));
        host.Database.LoadFailure = new TimeoutException("database down");

        var values = await host.Strategy.GetManyAsync([1, 2]);

        Assert.Equal(new Dictionary<int, string> { [1] = "one", [2] = "two" }, values);
        Assert.Equal(2, stale.Total());
    }

    [Fact]
    public async Task Invalidated_key_has_no_stale_value_to_fall_back_on()
    {
        using var host = FailSafeHost();
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);
        await host.Strategy.InvalidateAsync(1);
        host.Database.LoadFailure = new TimeoutException("database down");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));
    }
}
