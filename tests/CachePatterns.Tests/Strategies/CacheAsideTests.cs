using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class CacheAsideTests
{
    [Fact]
    public async Task Miss_loads_once_and_populates_then_next_read_hits()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");
        using var hits = host.Counter(CacheDiagnostics.Hits);
        using var misses = host.Counter(CacheDiagnostics.Misses);

        var first = await host.Strategy.GetAsync(1);
        var second = await host.Strategy.GetAsync(1);

        Assert.Equal("one", first);
        Assert.Equal("one", second);
        Assert.Equal(1, host.Database.LoadCount);
        Assert.Equal(1, misses.Total());
        Assert.Equal(1, hits.Total());
    }

    [Fact]
    public async Task Read_returns_the_cached_value_even_after_the_database_changes_behind_its_back()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);

        host.Database.Seed(1, "changed outside the cache");

        Assert.Equal("old", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Write_goes_to_the_database_then_invalidates_so_the_next_read_loads_the_new_value()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "old");
        Assert.Equal("old", await host.Strategy.GetAsync(1));

        await host.Strategy.WriteAsync(1, "new");

        Assert.Equal(1, host.Database.WriteCount);
        Assert.Equal("new", host.Database.Row(1));
        Assert.Equal(1, host.Database.LoadCount);

        Assert.Equal("new", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Write_that_fails_in_the_database_still_invalidates_and_propagates()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);
        host.Database.WriteFailure = new InvalidOperationException("deadlock victim");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.WriteAsync(1, "new"));

        Assert.Equal("deadlock victim", ex.Message);
        Assert.Equal("old", host.Database.Row(1));
        Assert.Equal("old", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Remove_deletes_from_the_database_then_invalidates()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");
        await host.Strategy.GetAsync(1);

        await host.Strategy.RemoveAsync(1);

        Assert.Equal(1, host.Database.DeleteCount);
        Assert.Null(host.Database.Row(1));
        Assert.Null(await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Invalidate_only_touches_the_cache()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");
        await host.Strategy.GetAsync(1);
        host.Database.Seed(1, "two");

        await host.Strategy.InvalidateAsync(1);

        Assert.Equal(0, host.Database.WriteCount);
        Assert.Equal(0, host.Database.DeleteCount);
        Assert.Equal("two", host.Database.Row(1));
        Assert.Equal("two", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Invalidate_leaves_other_keys_cached()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one").Seed(2, "two");
        await host.Strategy.GetAsync(1);
        await host.Strategy.GetAsync(2);

        await host.Strategy.InvalidateAsync(1);
        await host.Strategy.GetAsync(2);

        Assert.Equal([1, 2], host.Database.LoadedKeys);
    }

    [Fact]
    public async Task GetOrLoad_with_a_factory_uses_it_instead_of_the_loader_and_caches_the_result()
    {
        using var host = TestCacheHost.CacheAside();
        var calls = 0;

        var first = await host.Strategy.GetOrLoadAsync(7, (k, _) =>
        {
            calls++;
            return ValueTask.FromResult(LoadResult.Found($"factory {k}"));
        });
        var second = await host.Strategy.GetAsync(7);

        Assert.Equal("factory 7", first);
        Assert.Equal("factory 7", second);
        Assert.Equal(1, calls);
        Assert.Equal(0, host.Database.LoadCount);
    }

    [Fact]
    public async Task Loader_failure_reaches_the_caller_and_nothing_is_cached()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");
        host.Database.LoadFailure = new TimeoutException("database timeout");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetAsync(1));

        host.Database.LoadFailure = null;
        Assert.Equal("one", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }
}
