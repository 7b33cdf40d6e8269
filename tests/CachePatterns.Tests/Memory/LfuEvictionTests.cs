using CachePatterns.Diagnostics;
using CachePatterns.Memory;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Memory;

/// <summary>The opt-in least-frequently-used policy: bounded, counted, and it keeps the frequently read keys.</summary>
public sealed class LfuEvictionTests
{
    [Fact]
    public async Task Lfu_keeps_frequently_read_keys_while_a_scan_of_one_off_keys_passes_through()
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o =>
        {
            o.MaxEntries = 50;
            o.EvictionPolicy = MemoryEvictionPolicy.LeastFrequentlyUsed;
        }));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 1000; key++)
        {
            host.Database.Seed(key, $"v{key}");
        }

        for (var round = 0; round < 20; round++)
        {
            for (var hot = 0; hot < 10; hot++)
            {
                await host.Strategy.GetAsync(hot);
            }
        }

        for (var cold = 100; cold < 1000; cold++)
        {
            await host.Strategy.GetAsync(cold);
        }

        // BitFaster applies evictions when its write buffer is drained: wait until the store is back within its bound.
        await WaitUntilAsync(() => evictions.GetMeasurementSnapshot().Sum(m => m.Value) >= 1000 - 100 - 50);
        var hotHeld = 0;
        for (var hot = 0; hot < 10; hot++)
        {
            hotHeld += (await host.Strategy.TryGetAsync(hot)).Found ? 1 : 0;
        }

        Assert.True(hotHeld == 10, $"Only {hotHeld} of the 10 hot keys survived the scan (an LRU keeps none).");
        Assert.All(evictions.GetMeasurementSnapshot(), m => Assert.Equal("capacity", m.Tags["reason"]));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }
}
