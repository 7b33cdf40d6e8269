using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

/// <summary>
/// Deterministic interleavings of one load with one write or invalidation (the factory itself performs it),
/// showing that a load which started before never overwrites the newer state.
/// </summary>
public class FencedFillTests
{
    [Fact]
    public async Task Invalidation_during_a_load_fences_its_fill_off()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "fresh");

        var value = await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            await host.Strategy.InvalidateAsync(key, ct);
            return LoadResult.Found("loaded before the invalidation");
        });

        Assert.Equal("loaded before the invalidation", value);
        Assert.Equal(1, fenced.Total());
        Assert.Equal("fresh", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Cache_aside_write_during_a_load_makes_the_next_read_see_the_write()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "old");

        await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            var row = host.Database.Row(key)!;
            await host.Strategy.WriteAsync(key, "new", cancellationToken: ct);
            return LoadResult.Found(row);
        });

        Assert.Equal(1, fenced.Total());
        Assert.Equal("new", await host.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task Write_through_during_a_load_keeps_the_written_value()
    {
        using var host = TestCacheHost.WriteThrough();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "old");

        await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            var row = host.Database.Row(key)!;
            await host.Strategy.WriteAsync(key, "new", cancellationToken: ct);
            return LoadResult.Found(row);
        });

        Assert.Equal(1, fenced.Total());
        Assert.Equal("new", await host.Strategy.GetAsync(1));
        Assert.Equal(0, host.Database.LoadCount);
    }

    [Fact]
    public async Task Load_that_finishes_undisturbed_is_not_counted_as_fenced()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "one");

        await host.Strategy.GetAsync(1);

        Assert.Equal(0, fenced.Total());
    }
}
