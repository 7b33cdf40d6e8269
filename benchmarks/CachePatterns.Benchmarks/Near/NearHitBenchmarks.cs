using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The L1 hit of every two-level cache over one Redis, in one run (issue 12): CachePatterns' near cache, FusionCache
/// (memory + Redis + backplane) and HybridCache (local + Redis), against <see cref="IMemoryCache.TryGetValue"/>. Goal for
/// CachePatterns: ≤ 1.5× the baseline, 0 B, faster than FusionCache's memory hit. The interleaved <c>nearhit</c> mode
/// measures the same calls round-robin.
/// </summary>
[MemoryDiagnoser]
[ShortMeasuredJob]
public class NearHitBenchmarks
{
    private const string StringKey = NearHitFixture.StringKey;

    private NearHitFixture _fixture = null!;
    private IMemoryCache _memoryCache = null!;
    private ICacheStrategy<int, Product> _strategy = null!;
    private ICache _cache = null!;
    private IFusionCache _fusion = null!;
    private HybridCache _hybrid = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await NearHitFixture.CreateAsync();
        _memoryCache = _fixture.MemoryCache;
        _strategy = _fixture.Ours.Strategy;
        _cache = _fixture.Ours.Cache;
        _fusion = _fixture.Fusion.Cache;
        _hybrid = _fixture.Hybrid.Cache;
    }

    [GlobalCleanup]
    public Task CleanupAsync() => _fixture.DisposeAsync().AsTask();

    [Benchmark(Baseline = true, Description = "IMemoryCache.TryGetValue")]
    public Product? MemoryCache_TryGetValue() =>
        _memoryCache.TryGetValue(StringKey, out Product? value) ? value : null;

    [Benchmark(Description = "CachePatterns ICacheStrategy.GetAsync (Redis + near cache)")]
    public Product? Strategy_GetAsync() => Sync(_strategy.GetAsync(NearHitFixture.Key));

    [Benchmark(Description = "CachePatterns ICache.GetOrLoadAsync (Redis + near cache)")]
    public Product? Cache_GetOrLoadAsync() => Sync(_cache.GetOrLoadAsync(StringKey, static _ => new ValueTask<Product>(Product.Sample)));

    [Benchmark(Description = "FusionCache GetOrSetAsync (memory + Redis + backplane)")]
    public Product? Fusion_GetOrSetAsync() => Sync(_fusion.GetOrSetAsync<Product>(StringKey, static (_, _) => Task.FromResult(Product.Sample)));

    [Benchmark(Description = "FusionCache TryGetAsync (memory + Redis + backplane)")]
    public Product? Fusion_TryGetAsync()
    {
        var pending = _fusion.TryGetAsync<Product>(StringKey);
        return (pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult()).GetValueOrDefault();
    }

    [Benchmark(Description = "HybridCache GetOrCreateAsync (local + Redis)")]
    public Product? Hybrid_GetOrCreateAsync() => Sync(_hybrid.GetOrCreateAsync(StringKey, static _ => new ValueTask<Product>(Product.Sample)));

    /// <summary>What a caller expecting synchronous completion does: check <c>IsCompletedSuccessfully</c>, read <c>Result</c>.</summary>
    private static T Sync<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
}
