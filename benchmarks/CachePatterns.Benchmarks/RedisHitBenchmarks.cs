using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;

namespace CachePatterns.Benchmarks;

/// <summary>
/// A Redis hit over loopback with no local copy, sequential, every Redis-backed cache in the same run against one
/// redis-server the benchmark starts. Baseline: raw StackExchange.Redis <c>StringGetAsync</c> + System.Text.Json.
/// Goal for CachePatterns: at most 1.10x the baseline's time and 1.2x its allocations.
/// </summary>
[MemoryDiagnoser]
[ShortMeasuredJob]
public class RedisHitBenchmarks
{
    private RedisHitFixture _fixture = null!;
    private IDatabase _db = null!;
    private ICacheStrategy<int, Product> _strategy = null!;
    private IDistributedCache _distributed = null!;
    private FusionCache _fusion = null!;
    private HybridCache _hybrid = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _fixture = await RedisHitFixture.CreateAsync();
        _db = _fixture.RawDatabase;
        _strategy = _fixture.Strategy;
        _distributed = _fixture.Distributed;
        _fusion = _fixture.Fusion;
        _hybrid = _fixture.Hybrid;
    }

    [GlobalCleanup]
    public Task CleanupAsync() => _fixture.DisposeAsync().AsTask();

    [Benchmark(Baseline = true, Description = "raw SE.Redis StringGetAsync + STJ")]
    public async Task<Product?> Raw() => RedisHitFixture.Deserialize(await _db.StringGetAsync(RedisHitFixture.RawKey));

    [Benchmark(Description = "CachePatterns ICacheStrategy.GetAsync (Redis)")]
    public ValueTask<Product?> CachePatterns() => _strategy.GetAsync(RedisHitFixture.Key);

    [Benchmark(Description = "RedisCache GetAsync + STJ")]
    public async Task<Product?> RedisCache()
    {
        var bytes = await _distributed.GetAsync(RedisHitFixture.StringKey);
        return bytes is null ? null : System.Text.Json.JsonSerializer.Deserialize<Product>(bytes);
    }

    [Benchmark(Description = "FusionCache, distributed level only")]
    public ValueTask<Product?> Fusion() =>
        _fusion.GetOrDefaultAsync<Product>("fusion:" + RedisHitFixture.StringKey, options: RedisHitFixture.FusionOptions);

    [Benchmark(Description = "HybridCache, DisableLocalCache")]
    public ValueTask<Product> Hybrid() =>
        _hybrid.GetOrCreateAsync("hybrid:" + RedisHitFixture.StringKey, static _ => ValueTask.FromResult(Product.Sample), RedisHitFixture.HybridOptions);
}
