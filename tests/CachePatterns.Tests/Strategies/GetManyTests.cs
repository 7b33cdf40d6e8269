using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;
using Moq;

namespace CachePatterns.Tests.Strategies;

public class GetManyTests
{
    [Fact]
    public async Task Loads_only_the_misses_in_one_bulk_call_and_returns_every_found_value()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one").Seed(2, "two").Seed(3, "three");
        await host.Strategy.GetAsync(2);
        using var hits = host.Counter(CacheDiagnostics.Hits);
        using var misses = host.Counter(CacheDiagnostics.Misses);

        var values = await host.Strategy.GetManyAsync([1, 2, 3]);

        Assert.Equal(new Dictionary<int, string> { [1] = "one", [2] = "two", [3] = "three" }, values);
        var bulk = Assert.Single(host.Database.BulkLoads);
        Assert.Equal([1, 3], bulk.Order());
        Assert.Equal(1, host.Database.LoadCount);
        Assert.Equal(1, hits.Total());
        Assert.Equal(2, misses.Total());
    }

    [Fact]
    public async Task Caches_what_it_loaded_so_the_next_reads_hit()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one").Seed(2, "two");

        await host.Strategy.GetManyAsync([1, 2]);
        var again = await host.Strategy.GetManyAsync([1, 2]);
        var single = await host.Strategy.GetAsync(1);

        Assert.Equal(2, again.Count);
        Assert.Equal("one", single);
        Assert.Single(host.Database.BulkLoads);
        Assert.Equal(0, host.Database.LoadCount);
    }

    [Fact]
    public async Task Omits_keys_the_database_does_not_have()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");

        var values = await host.Strategy.GetManyAsync([1, 404]);

        Assert.Equal("one", Assert.Single(values).Value);
        Assert.False(values.ContainsKey(404));
    }

    [Fact]
    public async Task Reads_duplicate_keys_once()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one").Seed(2, "two");

        var values = await host.Strategy.GetManyAsync([1, 2, 1, 1, 2]);

        Assert.Equal(2, values.Count);
        var bulk = Assert.Single(host.Database.BulkLoads);
        Assert.Equal([1, 2], bulk.Order());
    }

    [Fact]
    public async Task Makes_no_loader_call_when_every_key_hits_or_the_list_is_empty()
    {
        var loader = new Mock<ICacheLoader<int, string>>(MockBehavior.Strict);
        loader.Setup(l => l.LoadAsync(5, It.IsAny<CancellationToken>())).ReturnsAsync(LoadResult.Found("five"));
        using var host = TestCacheHost.Create(b => b.AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader.Object, configure: o => o.Jitter = 0));
        await host.Strategy.GetAsync(5);

        var cached = await host.Strategy.GetManyAsync([5, 5]);
        var empty = await host.Strategy.GetManyAsync([]);

        Assert.Equal("five", cached[5]);
        Assert.Empty(empty);
        loader.Verify(l => l.LoadAsync(5, It.IsAny<CancellationToken>()), Times.Once);
        loader.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Uses_the_bulk_method_of_a_mocked_loader_with_exactly_the_missing_keys()
    {
        var loader = new Mock<ICacheLoader<int, string>>(MockBehavior.Strict);
        loader.Setup(l => l.LoadAsync(1, It.IsAny<CancellationToken>())).ReturnsAsync(LoadResult.Found("one"));
        IReadOnlyCollection<int>? requested = null;
        loader.Setup(l => l.LoadManyAsync(It.IsAny<IReadOnlyCollection<int>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyCollection<int> keys, CancellationToken _) => requested = [.. keys])
            .ReturnsAsync(new Dictionary<int, LoadResult<string>> { [2] = LoadResult.Found("two") });
        using var host = TestCacheHost.Create(b => b.AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader.Object, configure: o => o.Jitter = 0));
        await host.Strategy.GetAsync(1);

        var values = await host.Strategy.GetManyAsync([1, 2, 3, 2]);

        Assert.Equal(new Dictionary<int, string> { [1] = "one", [2] = "two" }, values);
        Assert.NotNull(requested);
        Assert.Equal([2, 3], requested.Order());
        loader.Verify(l => l.LoadManyAsync(It.IsAny<IReadOnlyCollection<int>>(), It.IsAny<CancellationToken>()), Times.Once);
        loader.Verify(l => l.LoadAsync(It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Bulk_loader_failure_reaches_the_caller_and_nothing_is_cached()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "one");
        host.Database.LoadFailure = new TimeoutException("database timeout");

        await Assert.ThrowsAsync<TimeoutException>(async () => await host.Strategy.GetManyAsync([1]));

        host.Database.LoadFailure = null;
        Assert.Equal("one", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }
}
