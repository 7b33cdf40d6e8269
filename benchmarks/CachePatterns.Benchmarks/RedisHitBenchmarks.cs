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

    // Each invocation awaits Hits sequential hits in an async loop, as application code does: BenchmarkDotNet's harness
    // blocks its main thread on each invocation, which would otherwise add a thread wake-up to every hit, and start
    // every call on a thread that never sees a completion (so no pooled object would ever come back to it).
    private const int Hits = 16;

    [Benchmark(Baseline = true, Description = "raw SE.Redis StringGetAsync + STJ", OperationsPerInvoke = Hits)]
    public async Task<Product?> Raw()
    {
        Product? last = null;
        for (var i = 0; i < Hits; i++)
        {
            last = RedisHitFixture.Deserialize(await _db.StringGetAsync(RedisHitFixture.RawKey));
        }

        return last;
    }

    [Benchmark(Description = "CachePatterns ICacheStrategy.GetAsync (Redis)", OperationsPerInvoke = Hits)]
    public async Task<Product?> CachePatterns()
    {
        Product? last = null;
        for (var i = 0; i < Hits; i++)
        {
            last = await _strategy.GetAsync(RedisHitFixture.Key);
        }

        return last;
    }

    [Benchmark(Description = "RedisCache GetAsync + STJ", OperationsPerInvoke = Hits)]
    public async Task<Product?> RedisCache()
    {
        Product? last = null;
        for (var i = 0; i < Hits; i++)
        {
            var bytes = await _distributed.GetAsync(RedisHitFixture.StringKey);
            last = bytes is null ? null : System.Text.Json.JsonSerializer.Deserialize<Product>(bytes);
        }

        return last;
    }

    [Benchmark(Description = "FusionCache, distributed level only", OperationsPerInvoke = Hits)]
    public async Task<Product?> Fusion()
    {
        Product? last = null;
        for (var i = 0; i < Hits; i++)
        {
            last = await _fusion.GetOrDefaultAsync<Product>("fusion:" + RedisHitFixture.StringKey, options: RedisHitFixture.FusionOptions);
        }

        return last;
    }

    [Benchmark(Description = "HybridCache, DisableLocalCache", OperationsPerInvoke = Hits)]
    public async Task<Product?> Hybrid()
    {
        Product? last = null;
        for (var i = 0; i < Hits; i++)
        {
            last = await _hybrid.GetOrCreateAsync("hybrid:" + RedisHitFixture.StringKey, static _ => ValueTask.FromResult(Product.Sample), RedisHitFixture.HybridOptions);
        }

        return last;
    }
}
