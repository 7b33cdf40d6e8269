using CachePatterns.Diagnostics;
using CachePatterns.Strategies;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

/// <summary>
/// Deterministic interleavings of one load with one write or invalidation (the factory itself performs it),
/// showing that a load which started before never overwrites the newer state.
/// </summary>
public class FencedFillTests
{
    [Fact]
    public async Task Invalidation_during_a_load_fences_its_fill_off_and_the_flight_loads_again()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        var loads = 0;

        var value = await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            if (++loads == 1)
            {
                await host.Strategy.InvalidateAsync(key, ct);
                return LoadResult.Found("loaded before the invalidation");
            }

            return LoadResult.Found("loaded after the invalidation");
        });

        Assert.Equal("loaded after the invalidation", value);
        Assert.Equal(2, loads);
        Assert.Equal(1, fenced.Total());
        Assert.Equal((true, "loaded after the invalidation"), await host.Strategy.TryGetAsync(1));
    }

    [Fact]
    public async Task A_flight_whose_fills_keep_being_fenced_stops_after_its_bound_and_hands_the_last_row()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        var loads = 0;

        var value = await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            await host.Strategy.InvalidateAsync(key, ct);
            return LoadResult.Found($"load {++loads}");
        });

        Assert.Equal(CacheStrategy<int, string>.MaxLoadsPerFlight, loads);
        Assert.Equal($"load {loads}", value);
        Assert.Equal(loads, fenced.Total());
        Assert.Equal((false, null), await host.Strategy.TryGetAsync(1));
    }

    [Fact]
    public async Task Cache_aside_write_during_a_load_makes_this_read_and_the_next_see_the_write()
    {
        using var host = TestCacheHost.CacheAside();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "old");
        var loads = 0;

        var value = await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            var row = host.Database.Row(key)!;
            if (++loads == 1)
            {
                await host.Strategy.WriteAsync(key, "new", cancellationToken: ct);
            }

            return LoadResult.Found(row);
        });

        Assert.Equal("new", value);
        Assert.Equal(1, fenced.Total());
        Assert.Equal("new", await host.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task Write_through_during_a_load_keeps_the_written_value()
    {
        using var host = TestCacheHost.WriteThrough();
        using var fenced = host.Counter(CacheDiagnostics.FillsFenced);
        host.Database.Seed(1, "old");

        var value = await host.Strategy.GetOrLoadAsync(1, async (key, ct) =>
        {
            var row = host.Database.Row(key)!;
            await host.Strategy.WriteAsync(key, "new", cancellationToken: ct);
            return LoadResult.Found(row);
        });

        // The fenced flight looks again and hits the written value: no second load.
        Assert.Equal("new", value);
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
