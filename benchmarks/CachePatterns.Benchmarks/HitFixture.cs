using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using BitFaster.Caching.Lru;

namespace CachePatterns.Benchmarks;

/// <summary>
/// Every in-memory cache of the hit comparison, each holding <see cref="Product.Sample"/> under one warm key
/// (<see cref="Key"/> for int-keyed APIs, <see cref="StringKey"/> for string-keyed ones), expiring in an hour.
/// Shared by <see cref="MemoryHitBenchmarks"/> and the interleaved <see cref="HitPathRunner"/>.
/// </summary>
public sealed class HitFixture : IAsyncDisposable
{
    public const int Key = 42;
    public const string StringKey = "product:42";
    private static readonly TimeSpan LongExpiration = TimeSpan.FromHours(1);

    private readonly ServiceProvider _services;
    private readonly ServiceProvider _hybridServices;

    private HitFixture(ServiceProvider services, ServiceProvider hybridServices)
    {
        _services = services;
        _hybridServices = hybridServices;
        MemoryCache = new MemoryCache(new MemoryCacheOptions());
        Lru = new ConcurrentLru<int, Product>(1_000);
        Strategy = services.GetRequiredService<ICacheStrategy<int, Product>>();
        Cache = services.GetRequiredService<ICache>();
        Fusion = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions(LongExpiration) });
        Hybrid = hybridServices.GetRequiredService<HybridCache>();
    }

    /// <summary>Gets the cache as applications inject it: string keys go through <c>TryGetValue(object, out object)</c>, not MemoryCache's span-keyed overloads.</summary>
    public IMemoryCache MemoryCache { get; }

    public ConcurrentLru<int, Product> Lru { get; }

    /// <summary>Gets the strategy registered with <c>AddCachePatterns().AddCacheAside&lt;int, Product, ProductLoader&gt;(o =&gt; o.Jitter = 0)</c>.</summary>
    public ICacheStrategy<int, Product> Strategy { get; }

    /// <summary>Gets the default ad-hoc cache of the same registration.</summary>
    public ICache Cache { get; }

    public FusionCache Fusion { get; }

    public HybridCache Hybrid { get; }

    public static async Task<HitFixture> CreateAsync()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns()
            .ConfigureDefaults(o => o.Expiration = LongExpiration)
            .AddCacheAside<int, Product, ProductLoader>(o =>
            {
                o.Jitter = 0;
                o.Expiration = LongExpiration;
            });

        var hybridServices = new ServiceCollection();
        hybridServices.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = LongExpiration,
            LocalCacheExpiration = LongExpiration,
        });

        var fixture = new HitFixture(services.BuildServiceProvider(), hybridServices.BuildServiceProvider());
        await fixture.WarmAsync();
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        MemoryCache.Dispose();
        Fusion.Dispose();
        await _services.DisposeAsync();
        await _hybridServices.DisposeAsync();
    }

    private async Task WarmAsync()
    {
        MemoryCache.Set(StringKey, Product.Sample, LongExpiration);
        MemoryCache.Set(Key, Product.Sample, LongExpiration);
        Lru.AddOrUpdate(Key, Product.Sample);
        await Strategy.GetAsync(Key);
        await Cache.GetOrLoadAsync(StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p));
        await Fusion.GetOrSetAsync<Product>(StringKey, static (_, _) => Task.FromResult(Product.Sample));
        await Hybrid.GetOrCreateAsync(StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p));
    }
}
