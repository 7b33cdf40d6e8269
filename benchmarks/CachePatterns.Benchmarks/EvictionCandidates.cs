using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The bounded stores compared for the in-memory provider, built the same way for the hit-ratio mode and the
/// hit-latency benchmark, and the replay of a key trace against each (read; on a miss, insert).
/// </summary>
public static class EvictionCandidates
{
    /// <summary>The entry options of every MemoryCache insert: each entry counts 1 toward <see cref="MemoryCacheOptions.SizeLimit"/>.</summary>
    public static MemoryCacheEntryOptions SizeOne { get; } = new() { Size = 1 };

    /// <summary>BitFaster's LRU as the provider builds it (<c>WithMetrics()</c> gives this same class).</summary>
    public static ConcurrentLru<int, Product> CreateLru(int capacity) => new(capacity);

    /// <summary>BitFaster's W-TinyLFU with its default (thread-pool) maintenance scheduler.</summary>
    public static ConcurrentLfu<int, Product> CreateLfu(int capacity) => new(capacity);

    /// <summary>Microsoft's MemoryCache bounded by size: over the limit, inserts are refused and a background compaction frees 5%.</summary>
    public static MemoryCache CreateMemoryCache(int capacity) => new(new MemoryCacheOptions { SizeLimit = capacity });

    public static long Replay(ConcurrentLru<int, Product> cache, int[] trace)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(trace);
        long hits = 0;
        foreach (var key in trace)
        {
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.AddOrUpdate(key, Product.Sample);
            }
        }

        return hits;
    }

    public static long Replay(ConcurrentLfu<int, Product> cache, int[] trace)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(trace);
        long hits = 0;
        foreach (var key in trace)
        {
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.AddOrUpdate(key, Product.Sample);
            }
        }

        return hits;
    }

    public static long Replay(MemoryCache cache, int[] trace) => Replay(cache, trace, SizeOne);

    /// <summary>Replays against MemoryCache inserting with <paramref name="options"/> (which must set <c>Size</c>).</summary>
    public static long Replay(MemoryCache cache, int[] trace, MemoryCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(trace);
        long hits = 0;
        foreach (var key in trace)
        {
            if (cache.TryGetValue(key, out _))
            {
                hits++;
            }
            else
            {
                cache.Set(key, Product.Sample, options);
            }
        }

        return hits;
    }

    /// <summary>Replays through <see cref="ICacheStrategy{TKey, TValue}.GetAsync"/>; a hit is a read that did not call the loader.</summary>
    public static long Replay(ICacheStrategy<int, Product> strategy, CountingLoader loader, int[] trace)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(trace);
        var loadsBefore = loader.Loads;
        foreach (var key in trace)
        {
            var pending = strategy.GetAsync(key);
            if (!pending.IsCompletedSuccessfully)
            {
                pending.AsTask().GetAwaiter().GetResult();
            }
        }

        return trace.Length - (loader.Loads - loadsBefore);
    }
}
