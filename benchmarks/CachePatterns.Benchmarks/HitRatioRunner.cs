using System.Diagnostics;
using System.Globalization;
using BitFaster.Caching;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>hitratio</c> mode: replays a fixed-seed Zipf trace against each bounded store (read; on a miss, insert)
/// and prints the hit ratio as a markdown table. Single-threaded; background maintenance (LFU buffers,
/// MemoryCache compaction) runs on the thread pool as it does in production.
/// </summary>
public static class HitRatioRunner
{
    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(
            $"Zipf workload: {SkewedWorkload.KeyCount:N0} keys, capacity {SkewedWorkload.Capacity:N0} " +
            $"({100.0 * SkewedWorkload.Capacity / SkewedWorkload.KeyCount:0}%), {SkewedWorkload.Requests:N0} requests, seed {SkewedWorkload.Seed}; " +
            "hit ratio over the whole trace, cold start included.");
        output.WriteLine();
        output.WriteLine("| Zipf s | cache | hit ratio | entries at end | capacity evictions reported | elapsed (ms) |");
        output.WriteLine("|---|---|---:|---:|---:|---:|");

        foreach (var exponent in SkewedWorkload.Exponents)
        {
            var distribution = SkewedWorkload.Distribution(exponent);
            var trace = distribution.Trace(SkewedWorkload.Requests, SkewedWorkload.Seed);
            var s = exponent.ToString("0.0", CultureInfo.InvariantCulture);

            // Warm the JIT on a short prefix with throw-away caches so the first measured store is not penalised.
            var prefix = trace.AsSpan(0, 20_000).ToArray();
            EvictionCandidates.Replay(EvictionCandidates.CreateLru(SkewedWorkload.Capacity), prefix);
            EvictionCandidates.Replay(EvictionCandidates.CreateLfu(SkewedWorkload.Capacity), prefix);
            using (var warm = EvictionCandidates.CreateMemoryCache(SkewedWorkload.Capacity))
            {
                EvictionCandidates.Replay(warm, prefix);
            }

            // Both BitFaster caches raise ItemRemoved with a reason (ConcurrentLfu too, in BitFaster.Caching 2.6):
            // count capacity evictions to show the provider could report them by reason with either.
            var lru = EvictionCandidates.CreateLru(SkewedWorkload.Capacity);
            var lruEvictions = 0;
            lru.Events.Value!.ItemRemoved += (_, e) => Interlocked.Add(ref lruEvictions, e.Reason == ItemRemovedReason.Evicted ? 1 : 0);
            Row(output, s, "BitFaster ConcurrentLru", () => EvictionCandidates.Replay(lru, trace), () => lru.Count, () => Volatile.Read(ref lruEvictions));

            var lfu = EvictionCandidates.CreateLfu(SkewedWorkload.Capacity);
            var lfuEvictions = 0;
            lfu.Events.Value!.ItemRemoved += (_, e) => Interlocked.Add(ref lfuEvictions, e.Reason == ItemRemovedReason.Evicted ? 1 : 0);
            Row(output, s, "BitFaster ConcurrentLfu", () => EvictionCandidates.Replay(lfu, trace), () => lfu.Count, () => Volatile.Read(ref lfuEvictions));

            using (var memory = EvictionCandidates.CreateMemoryCache(SkewedWorkload.Capacity))
            {
                var memoryEvictions = 0;
                var options = new MemoryCacheEntryOptions { Size = 1 };
                options.RegisterPostEvictionCallback((_, _, reason, _) => Interlocked.Add(ref memoryEvictions, reason == EvictionReason.Capacity ? 1 : 0));
                Row(output, s, "MemoryCache (SizeLimit, Size = 1)", () => EvictionCandidates.Replay(memory, trace, options), () => memory.Count, () => Volatile.Read(ref memoryEvictions));
            }

            var loader = new CountingLoader(TimeSpan.Zero);
            await using (var services = CachePatternsServices.CreateCacheAside(SkewedWorkload.Capacity, loader))
            {
                var strategy = services.GetRequiredService<ICacheStrategy<int, Product>>();
                Row(output, s, "CachePatterns GetAsync (memory provider)", () => EvictionCandidates.Replay(strategy, loader, trace), () => -1, () => -1);
            }

            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {s} | *oracle: the {SkewedWorkload.Capacity:N0} most popular keys, pinned* | {distribution.MassOfTop(SkewedWorkload.Capacity) * 100:0.0}% | | | |"));
        }

        return 0;
    }

    private static void Row(TextWriter output, string exponent, string name, Func<long> replay, Func<int> count, Func<int> evictions)
    {
        var stopwatch = Stopwatch.StartNew();
        var hits = replay();
        stopwatch.Stop();

        // Let background maintenance (LFU buffer drain, MemoryCache compaction) settle before counting.
        Thread.Sleep(200);
        var ratio = (double)hits / SkewedWorkload.Requests;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {exponent} | {name} | {ratio * 100:0.0}% | {Count(count())} | {Count(evictions())} | {stopwatch.Elapsed.TotalMilliseconds:N0} |"));
    }

    private static string Count(int value) => value < 0 ? "–" : value.ToString("N0", CultureInfo.InvariantCulture);
}
