using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class WriteThroughTests
{
    [Fact]
    public async Task Read_after_write_hits_the_new_value_without_calling_the_loader()
    {
        using var host = TestCacheHost.WriteThrough();
        using var hits = host.Counter(CacheDiagnostics.Hits);

        await host.Strategy.WriteAsync(1, "written");
        var value = await host.Strategy.GetAsync(1);

        Assert.Equal("written", value);
        Assert.Equal("written", host.Database.Row(1));
        Assert.Equal(1, host.Database.WriteCount);
        Assert.Equal(0, host.Database.LoadCount);
        Assert.Equal(1, hits.Total());
    }

    [Fact]
    public async Task Write_replaces_a_cached_value()
    {
        using var host = TestCacheHost.WriteThrough();
        host.Database.Seed(1, "old");
        Assert.Equal("old", await host.Strategy.GetAsync(1));

        await host.Strategy.WriteAsync(1, "new");

        Assert.Equal("new", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Writer_exception_propagates_and_the_cache_keeps_no_value_the_database_lacks()
    {
        using var host = TestCacheHost.WriteThrough();
        host.Database.Seed(1, "old");
        await host.Strategy.GetAsync(1);
        var failure = new InvalidOperationException("unique constraint violated");
        host.Database.WriteFailure = failure;

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.WriteAsync(1, "rejected"));

        Assert.Same(failure, thrown);
        Assert.Equal("old", host.Database.Row(1));
        host.Database.WriteFailure = null;
        Assert.Equal("old", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Failed_first_write_of_a_new_key_leaves_it_uncached()
    {
        using var host = TestCacheHost.WriteThrough();
        host.Database.WriteFailure = new InvalidOperationException("down");

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.WriteAsync(9, "never stored"));

        Assert.Null(await host.Strategy.GetAsync(9));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Remove_deletes_from_the_database_and_the_cache()
    {
        using var host = TestCacheHost.WriteThrough();
        await host.Strategy.WriteAsync(1, "one");

        await host.Strategy.RemoveAsync(1);

        Assert.Null(host.Database.Row(1));
        Assert.Equal(1, host.Database.DeleteCount);
        Assert.Null(await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Write_with_entry_options_uses_their_expiration()
    {
        using var host = TestCacheHost.WriteThrough(o => o.Expiration = TimeSpan.FromHours(1));

        await host.Strategy.WriteAsync(1, "short-lived", CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(30)));
        host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("short-lived", await host.Strategy.GetAsync(1));
        Assert.Equal(0, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("short-lived", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Misses_still_load_lazily()
    {
        using var host = TestCacheHost.WriteThrough();
        host.Database.Seed(3, "three");

        Assert.Equal("three", await host.Strategy.GetAsync(3));
        Assert.Equal("three", await host.Strategy.GetAsync(3));

        Assert.Equal(1, host.Database.LoadCount);
    }
}
