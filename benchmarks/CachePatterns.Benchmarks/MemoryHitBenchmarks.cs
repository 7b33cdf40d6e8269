using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace CachePatterns.Benchmarks;

/// <summary>
/// One warm key, read from every in-memory cache in the same run. The baseline is the raw
/// <see cref="IMemoryCache.TryGetValue"/> with a string key (no boxing); the goal for CachePatterns is at most
/// 2x the baseline and 0 B. The string-keyed APIs (ICache, FusionCache, HybridCache) use the same string key.
/// </summary>
[MemoryDiagnoser]
[ShortMeasuredJob]
public class MemoryHitBenchmarks
{
    private const int Key = HitFixture.Key;
    private const string StringKey = HitFixture.StringKey;

    private HitFixture _fixture = null!;
    private IMemoryCache _memoryCache = null!;
    private ConcurrentLru<int, Product> _lru = null!;
    private ICacheStrategy<int, Product> _strategy = null!;
    private ICache _cache = null!;
    private FusionCache _fusion = null!;
    private HybridCache _hybrid = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await HitFixture.CreateAsync();
        _memoryCache = _fixture.MemoryCache;
        _lru = _fixture.Lru;
        _strategy = _fixture.Strategy;
        _cache = _fixture.Cache;
        _fusion = _fixture.Fusion;
        _hybrid = _fixture.Hybrid;
        EnsureHits();
    }

    [GlobalCleanup]
    public Task CleanupAsync() => _fixture.DisposeAsync().AsTask();

    [Benchmark(Baseline = true, Description = "IMemoryCache.TryGetValue")]
    public Product? MemoryCache_TryGetValue() =>
        _memoryCache.TryGetValue(StringKey, out Product? value) ? value : null;

    /// <summary>IMemoryCache keys are objects: an int key is boxed on every call.</summary>
    [Benchmark(Description = "IMemoryCache.TryGetValue (int key)")]
    public Product? MemoryCache_TryGetValue_IntKey() =>
        _memoryCache.TryGetValue(Key, out Product? value) ? value : null;

    /// <summary>
    /// The harness control for the awaited rows: the baseline lookup awaited as a completed ValueTask inside an async
    /// method, the same shape as <c>await cache.GetAsync(key)</c>; it prices the caller's state machine and BenchmarkDotNet's await.
    /// </summary>
    [Benchmark(Description = "IMemoryCache.TryGetValue (await, harness control)")]
    public async ValueTask<Product?> MemoryCache_TryGetValue_Await() =>
        await new ValueTask<Product?>(_memoryCache.TryGetValue(StringKey, out Product? value) ? value : null);

    [Benchmark(Description = "BitFaster ConcurrentLru.TryGet")]
    public Product? ConcurrentLru_TryGet() =>
        _lru.TryGet(Key, out var value) ? value : null;

    [Benchmark(Description = "ICacheStrategy.GetAsync (sync check)")]
    public Product? Strategy_GetAsync_SyncCheck()
    {
        var pending = _strategy.GetAsync(Key);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "ICacheStrategy.GetAsync (await)")]
    public async ValueTask<Product?> Strategy_GetAsync_Await() =>
        await _strategy.GetAsync(Key);

    [Benchmark(Description = "ICache.GetOrLoadAsync (static lambda)")]
    public async ValueTask<Product> Cache_GetOrLoadAsync_Lambda() =>
        await _cache.GetOrLoadAsync(StringKey, static _ => new ValueTask<Product>(Product.Sample));

    [Benchmark(Description = "ICache.GetOrLoadAsync (state)")]
    public async ValueTask<Product> Cache_GetOrLoadAsync_State() =>
        await _cache.GetOrLoadAsync(StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p));

    [Benchmark(Description = "FusionCache GetOrSetAsync")]
    public async ValueTask<Product> Fusion_GetOrSetAsync() =>
        await _fusion.GetOrSetAsync<Product>(StringKey, static (_, _) => Task.FromResult(Product.Sample));

    [Benchmark(Description = "HybridCache GetOrCreateAsync")]
    public async ValueTask<Product> Hybrid_GetOrCreateAsync() =>
        await _hybrid.GetOrCreateAsync(StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p));

    /// <summary>Fails the setup if any benchmark would measure a miss instead of a hit.</summary>
    private void EnsureHits()
    {
        var pending = _strategy.GetAsync(Key);
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The strategy's hit did not complete synchronously.");
        }

        if (MemoryCache_TryGetValue() is null || MemoryCache_TryGetValue_IntKey() is null || ConcurrentLru_TryGet() is null || pending.Result is null)
        {
            throw new InvalidOperationException("A cache was not warm.");
        }

        if (!CompletedSynchronously(Cache_GetOrLoadAsync_Lambda()) || !CompletedSynchronously(Cache_GetOrLoadAsync_State())
            || !CompletedSynchronously(Fusion_GetOrSetAsync()) || !CompletedSynchronously(Hybrid_GetOrCreateAsync()))
        {
            throw new InvalidOperationException("A get-or-load hit did not complete synchronously.");
        }
    }

    private static bool CompletedSynchronously<T>(ValueTask<T> task) => task.IsCompletedSuccessfully && task.Result is not null;
}
