using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// One two-level cache (memory in front of Redis) as its users run it in production, behind the few calls the near-cache
/// benchmarks make: a read that is an L1 hit once warm, and a write that every other process must see. Each runner owns
/// its connections, so two runners of one library in two processes are two independent cache nodes.
/// </summary>
public interface INearCacheRunner : IAsyncDisposable
{
    /// <summary>Gets the row label.</summary>
    string Name { get; }

    /// <summary>Reads <paramref name="key"/> through every level; the loader (never expected to run once warm) returns <see cref="Product.Sample"/>.</summary>
    ValueTask<Product> GetAsync(string key);

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/> through every level, as an application's update would.</summary>
    ValueTask SetAsync(string key, Product value);
}

/// <summary>The libraries the near-cache benchmarks compare, by the name their command lines use.</summary>
public static class NearCacheRunners
{
    public const string CachePatterns = "cachepatterns";
    public const string FusionCache = "fusioncache";
    public const string HybridCache = "hybridcache";

    public static IReadOnlyList<string> All { get; } = [CachePatterns, FusionCache, HybridCache];

    /// <summary>How long every level keeps an entry: longer than any run, so only an invalidation ends an L1 copy.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromHours(1);

    public static async Task<INearCacheRunner> CreateAsync(string library, string redisConfiguration)
    {
        INearCacheRunner runner = library switch
        {
            CachePatterns => new CachePatternsNearRunner(redisConfiguration),
            FusionCache => new FusionCacheNearRunner(redisConfiguration),
            HybridCache => new HybridCacheNearRunner(redisConfiguration),
            _ => throw new ArgumentException($"Unknown library '{library}': expected one of {string.Join(", ", All)}.", nameof(library)),
        };

        // Connect every level before anything is timed.
        _ = await runner.GetAsync("near:connect");
        return runner;
    }
}

/// <summary>CachePatterns: the Redis provider with its near cache, through <see cref="ICache"/> and an <see cref="ICacheStrategy{TKey, TValue}"/>.</summary>
public sealed class CachePatternsNearRunner : INearCacheRunner
{
    private readonly ServiceProvider _services;

    public CachePatternsNearRunner(string redisConfiguration)
    {
        var services = new ServiceCollection();
        NearCacheSetup.UseRedisWithNearCache(services.AddCachePatterns(), redisConfiguration)
            .ConfigureDefaults(o => o.Expiration = NearCacheRunners.Lifetime)
            .AddCacheAside<int, Product, ProductLoader>(o =>
            {
                o.Jitter = 0;
                o.Expiration = NearCacheRunners.Lifetime;
            });
        _services = services.BuildServiceProvider();
        Cache = _services.GetRequiredService<ICache>();
        Strategy = _services.GetRequiredService<ICacheStrategy<int, Product>>();
    }

    public string Name => "CachePatterns (Redis + near cache)";

    public ICache Cache { get; }

    public ICacheStrategy<int, Product> Strategy { get; }

    public ValueTask<Product> GetAsync(string key) => Cache.GetOrLoadAsync(key, static _ => new ValueTask<Product>(Product.Sample));

    public ValueTask SetAsync(string key, Product value) => Cache.SetAsync(key, value);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>FusionCache 2.9 as its docs set it up for several nodes: memory level, Redis level (<c>RedisCache</c>), Redis backplane.</summary>
public sealed class FusionCacheNearRunner : INearCacheRunner
{
    private readonly ServiceProvider _services;

    public FusionCacheNearRunner(string redisConfiguration)
    {
        var services = new ServiceCollection();
        services.AddFusionCache()
            .WithDefaultEntryOptions(new FusionCacheEntryOptions(NearCacheRunners.Lifetime))
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redisConfiguration }))
            .WithBackplane(new RedisBackplane(new RedisBackplaneOptions { Configuration = redisConfiguration }));
        _services = services.BuildServiceProvider();
        Cache = _services.GetRequiredService<IFusionCache>();
    }

    public string Name => "FusionCache (memory + Redis + backplane)";

    public IFusionCache Cache { get; }

    public ValueTask<Product> GetAsync(string key) => Cache.GetOrSetAsync<Product>(key, static (_, _) => Task.FromResult(Product.Sample));

    public ValueTask SetAsync(string key, Product value) => Cache.SetAsync(key, value);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>Microsoft HybridCache: local cache + Redis <c>IDistributedCache</c>; it has no cross-process invalidation.</summary>
public sealed class HybridCacheNearRunner : INearCacheRunner
{
    private readonly ServiceProvider _services;

    public HybridCacheNearRunner(string redisConfiguration)
    {
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(o => o.Configuration = redisConfiguration);
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = NearCacheRunners.Lifetime,
            LocalCacheExpiration = NearCacheRunners.Lifetime,
        });
        _services = services.BuildServiceProvider();
        Cache = _services.GetRequiredService<HybridCache>();
    }

    public string Name => "HybridCache (local + Redis)";

    public HybridCache Cache { get; }

    public ValueTask<Product> GetAsync(string key) => Cache.GetOrCreateAsync(key, static _ => new ValueTask<Product>(Product.Sample));

    public ValueTask SetAsync(string key, Product value) => Cache.SetAsync(key, value);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
