using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class LoadResultTests
{
    [Fact]
    public async Task DoNotCache_value_is_returned_but_not_cached()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.Seed(1, "being edited");
        host.Database.ResultFor = (_, row) => LoadResult.DoNotCache(row!);

        Assert.Equal("being edited", await host.Strategy.GetAsync(1));
        Assert.Equal("being edited", await host.Strategy.GetAsync(1));

        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task NotFound_is_not_cached_without_negative_caching()
    {
        using var host = TestCacheHost.CacheAside();

        Assert.Null(await host.Strategy.GetAsync(404));
        Assert.Null(await host.Strategy.GetAsync(404));

        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task NotFound_is_cached_until_the_negative_expiration_passes()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromHours(1);
            o.NegativeCacheExpiration = TimeSpan.FromSeconds(30);
        });

        Assert.Null(await host.Strategy.GetAsync(404));
        host.Database.Seed(404, "created meanwhile");
        host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(await host.Strategy.GetAsync(404));
        Assert.Equal(1, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("created meanwhile", await host.Strategy.GetAsync(404));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Negatively_cached_key_is_omitted_by_GetMany_without_a_load()
    {
        using var host = TestCacheHost.CacheAside(o => o.NegativeCacheExpiration = TimeSpan.FromMinutes(1));
        host.Database.Seed(1, "one");
        Assert.Null(await host.Strategy.GetAsync(404));

        var values = await host.Strategy.GetManyAsync([1, 404]);

        Assert.Equal("one", Assert.Single(values).Value);
        var bulk = Assert.Single(host.Database.BulkLoads);
        Assert.Equal([1], bulk);
    }

    [Fact]
    public async Task NotFound_with_its_own_options_is_cached_even_without_negative_caching()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.ResultFor = (_, row) => row is null
            ? LoadResult.NotFound<string>(CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(10)))
            : LoadResult.Found(row);

        Assert.Null(await host.Strategy.GetAsync(404));
        Assert.Null(await host.Strategy.GetAsync(404));
        Assert.Equal(1, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(await host.Strategy.GetAsync(404));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task NotFound_with_options_that_set_no_expiration_is_not_cached_forever()
    {
        using var host = TestCacheHost.CacheAside();
        host.Database.ResultFor = (_, row) => row is null ? LoadResult.NotFound<string>(new CacheEntryOptions()) : LoadResult.Found(row);

        Assert.Null(await host.Strategy.GetAsync(404));
        host.Database.Seed(404, "created later");
        host.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal("created later", await host.Strategy.GetAsync(404));
    }

    [Fact]
    public async Task NotFound_with_options_that_set_no_expiration_uses_the_negative_expiration()
    {
        using var host = TestCacheHost.CacheAside(o => o.NegativeCacheExpiration = TimeSpan.FromSeconds(20));
        host.Database.ResultFor = (_, row) => row is null ? LoadResult.NotFound<string>(new CacheEntryOptions()) : LoadResult.Found(row);

        Assert.Null(await host.Strategy.GetAsync(404));
        host.Database.Seed(404, "created later");
        Assert.Null(await host.Strategy.GetAsync(404));

        host.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("created later", await host.Strategy.GetAsync(404));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Entry_options_shorter_than_the_strategy_expiration_win()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromHours(1));
        host.Database.Seed(1, "one");
        host.Database.ResultFor = (_, row) => LoadResult.Found(row!, CacheEntryOptions.ExpireAfter(TimeSpan.FromMinutes(1)));

        await host.Strategy.GetAsync(1);
        host.Time.Advance(TimeSpan.FromSeconds(59));
        await host.Strategy.GetAsync(1);
        Assert.Equal(1, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        await host.Strategy.GetAsync(1);
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Entry_options_longer_than_the_strategy_expiration_win()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromMinutes(1));
        host.Database.Seed(1, "one");
        host.Database.ResultFor = (_, row) => LoadResult.Found(row!, CacheEntryOptions.ExpireAfter(TimeSpan.FromHours(1)));

        await host.Strategy.GetAsync(1);
        host.Time.Advance(TimeSpan.FromMinutes(59));
        await host.Strategy.GetAsync(1);

        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Entry_sliding_option_replaces_the_strategy_expiration()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromMinutes(1));
        host.Database.Seed(1, "one");
        host.Database.ResultFor = (_, row) => LoadResult.Found(row!, CacheEntryOptions.ExpireAfterIdle(TimeSpan.FromSeconds(40)));

        await host.Strategy.GetAsync(1);
        for (var i = 0; i < 5; i++)
        {
            // 150 s in total: far past the strategy's 1 minute, but never idle for 40 s.
            host.Time.Advance(TimeSpan.FromSeconds(30));
            await host.Strategy.GetAsync(1);
        }

        Assert.Equal(1, host.Database.LoadCount);
        host.Time.Advance(TimeSpan.FromSeconds(40));
        await host.Strategy.GetAsync(1);
        Assert.Equal(2, host.Database.LoadCount);
    }
}
