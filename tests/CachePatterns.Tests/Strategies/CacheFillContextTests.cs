using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class CacheFillContextTests
{
    [Fact]
    public async Task Is_active_inside_the_loader_of_a_single_key_fill_and_not_after_it()
    {
        using var host = TestCacheHost.CacheAside();
        bool? seenInside = null;

        var value = await host.Strategy.GetOrLoadAsync(7, (key, _) =>
        {
            seenInside = CacheFillContext.IsActive;
            return ValueTask.FromResult(LoadResult.Found($"v{key}"));
        });

        Assert.Equal("v7", value);
        Assert.True(seenInside);
        Assert.False(CacheFillContext.IsActive);
    }

    [Fact]
    public async Task Is_active_inside_a_bulk_load_and_inactive_outside_any_fill()
    {
        using var host = TestCacheHost.CacheAside();
        var seen = new List<bool>();
        host.Database.ResultFor = (key, _) =>
        {
            seen.Add(CacheFillContext.IsActive);
            return LoadResult.Found($"v{key}");
        };

        var values = await host.Strategy.GetManyAsync([1, 2]);

        Assert.Equal(2, values.Count);
        Assert.Equal([true, true], seen);
        Assert.False(CacheFillContext.IsActive);
    }
}
