using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CachePatterns.Memcached;
using CachePatterns.Memcached.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace CachePatterns.Benchmarks;

/// <summary>
/// A hit on a remote provider through <see cref="ICacheStrategy{TKey,TValue}"/> (no local copy), memcached next to Redis,
/// one caller at a time over loopback, each against the raw read of its own client plus System.Text.Json in the same run.
/// The benchmark starts memcached and redis-server itself on free ports (both must be on PATH).
/// </summary>
[MemoryDiagnoser]
[ShortMeasuredJob]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class RemoteHitBenchmarks : IDisposable
{
    private const int Key = HitFixture.Key;
    private const string RawKey = "raw:product:42";

    private ServerProcess _memcached = null!;
    private ServerProcess _redis = null!;
    private ServiceProvider _memcachedServices = null!;
    private ServiceProvider _redisServices = null!;
    private ICacheStrategy<int, Product> _memcachedStrategy = null!;
    private ICacheStrategy<int, Product> _redisStrategy = null!;
    private MemcachedClient _memcachedClient = null!;
    private ConnectionMultiplexer _redisConnection = null!;
    private IDatabase _redisDatabase = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _memcached = ServerProcess.Memcached();
        _redis = ServerProcess.Redis();
        _memcachedServices = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o => o.Servers.Add(_memcached.Address))
            .AddCacheAside<int, Product, ProductLoader>(o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        _redisServices = new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o => o.Configuration = _redis.Address)
            .AddCacheAside<int, Product, ProductLoader>(o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        _memcachedStrategy = _memcachedServices.GetRequiredService<ICacheStrategy<int, Product>>();
        _redisStrategy = _redisServices.GetRequiredService<ICacheStrategy<int, Product>>();

        var options = new MemcachedCacheProviderOptions();
        options.Servers.Add(_memcached.Address);
        _memcachedClient = new MemcachedClient(options, TimeProvider.System, NullLogger.Instance);
        _redisConnection = await ConnectionMultiplexer.ConnectAsync(_redis.Address);
        _redisDatabase = _redisConnection.GetDatabase();
        var json = JsonSerializer.SerializeToUtf8Bytes(Product.Sample);
        await _memcachedClient.SetAsync(RawKey, json, null, string.Empty, default);
        await _redisDatabase.StringSetAsync(RawKey, json);

        // Fill through the strategies (the first call also connects), then make sure every case hits.
        for (var i = 0; i < 3; i++)
        {
            await _memcachedStrategy.GetAsync(Key);
            await _redisStrategy.GetAsync(Key);
        }

        if (await MemcachedRaw() is null || await RedisRaw() is null || await MemcachedStrategy() is null || await RedisStrategy() is null)
        {
            throw new InvalidOperationException("A case missed.");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _memcachedServices?.Dispose();
        _redisServices?.Dispose();
        _memcachedClient?.Dispose();
        _redisConnection?.Dispose();
        _memcached?.Dispose();
        _redis?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, Description = "memcached: our client mg + System.Text.Json")]
    [BenchmarkCategory("memcached")]
    public async Task<Product?> MemcachedRaw()
    {
        var response = await _memcachedClient.GetAsync(RawKey, "v f", default);
        return JsonSerializer.Deserialize<Product>(response.Value);
    }

    [Benchmark(Description = "memcached: ICacheStrategy.GetAsync")]
    [BenchmarkCategory("memcached")]
    public ValueTask<Product?> MemcachedStrategy() => _memcachedStrategy.GetAsync(Key);

    [Benchmark(Baseline = true, Description = "Redis: StringGetAsync + System.Text.Json")]
    [BenchmarkCategory("redis")]
    public async Task<Product?> RedisRaw()
    {
        var value = await _redisDatabase.StringGetAsync(RawKey);
        return JsonSerializer.Deserialize<Product>((byte[])value!);
    }

    [Benchmark(Description = "Redis: ICacheStrategy.GetAsync")]
    [BenchmarkCategory("redis")]
    public ValueTask<Product?> RedisStrategy() => _redisStrategy.GetAsync(Key);
}
