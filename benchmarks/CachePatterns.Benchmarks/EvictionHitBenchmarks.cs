using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks;

/// <summary>
/// Hit latency of the bounded stores compared for the in-memory provider, each warmed by replaying the Zipf trace
/// (capacity 10% of the keys). Every operation is a hit: the probes are 1,024 draws from the same distribution,
/// kept only if every store holds them after the replay.
/// </summary>
[MemoryDiagnoser]
[ShortMeasuredJob]
public class EvictionHitBenchmarks
{
    private const int Probes = 1_024;

    private ConcurrentLru<int, Product> _lru = null!;
    private ConcurrentLfu<int, Product> _lfu = null!;
    private MemoryCache _memoryCache = null!;
    private int[] _probes = null!;
    private object[] _boxedProbes = null!;

    [GlobalSetup]
    public void Setup()
    {
        var trace = SkewedWorkload.Trace(SkewedWorkload.DefaultExponent);
        _lru = EvictionCandidates.CreateLru(SkewedWorkload.Capacity);
        _lfu = EvictionCandidates.CreateLfu(SkewedWorkload.Capacity);
        _memoryCache = EvictionCandidates.CreateMemoryCache(SkewedWorkload.Capacity);
        EvictionCandidates.Replay(_lru, trace);
        EvictionCandidates.Replay(_lfu, trace);
        EvictionCandidates.Replay(_memoryCache, trace);
        _lfu.DoMaintenance();
        Thread.Sleep(500);

        var distribution = SkewedWorkload.Distribution(SkewedWorkload.DefaultExponent);
        var random = new Random(SkewedWorkload.Seed + 1);
        var probes = new List<int>(Probes);
        while (probes.Count < Probes)
        {
            var key = ZipfDistribution.KeyOf(distribution.Sample(random));
            if (_lru.TryGet(key, out _) && _lfu.TryGet(key, out _) && _memoryCache.TryGetValue(key, out _))
            {
                probes.Add(key);
            }
        }

        _probes = [.. probes];
        _boxedProbes = [.. probes.Select(static k => (object)k)];
        if (Lru_TryGet() != Probes || Lfu_TryGet() != Probes || MemoryCache_TryGetValue() != Probes || MemoryCache_TryGetValue_PreBoxed() != Probes)
        {
            throw new InvalidOperationException("A probe missed.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _memoryCache.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Probes, Description = "BitFaster ConcurrentLru.TryGet")]
    public int Lru_TryGet()
    {
        var hits = 0;
        foreach (var key in _probes)
        {
            if (_lru.TryGet(key, out _))
            {
                hits++;
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Probes, Description = "BitFaster ConcurrentLfu.TryGet")]
    public int Lfu_TryGet()
    {
        var hits = 0;
        foreach (var key in _probes)
        {
            if (_lfu.TryGet(key, out _))
            {
                hits++;
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Probes, Description = "MemoryCache.TryGetValue (SizeLimit)")]
    public int MemoryCache_TryGetValue()
    {
        var hits = 0;
        foreach (var key in _probes)
        {
            if (_memoryCache.TryGetValue(key, out _))
            {
                hits++;
            }
        }

        return hits;
    }

    /// <summary>The same lookups with keys boxed once up front: MemoryCache's own cost without the per-call boxing of an int key.</summary>
    [Benchmark(OperationsPerInvoke = Probes, Description = "MemoryCache.TryGetValue (SizeLimit, pre-boxed keys)")]
    public int MemoryCache_TryGetValue_PreBoxed()
    {
        var hits = 0;
        foreach (var key in _boxedProbes)
        {
            if (_memoryCache.TryGetValue(key, out _))
            {
                hits++;
            }
        }

        return hits;
    }
}
