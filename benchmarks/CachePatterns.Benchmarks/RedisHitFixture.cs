using System.Text.Json;
using CachePatterns.Providers;
using CachePatterns.Redis;
using CachePatterns.Serialization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CachePatterns.Benchmarks;

/// <summary>
/// One warm key in one redis-server the fixture starts, read through every Redis-backed cache with no local copy:
/// raw StackExchange.Redis + System.Text.Json, CachePatterns' strategy over its Redis provider, Microsoft RedisCache,
/// FusionCache with its memory level skipped, HybridCache with its local cache disabled.
/// </summary>
public sealed class RedisHitFixture : IAsyncDisposable
{
    public const int Key = 42;
    public const string RawKey = "raw:product:42";
    public const string StringKey = "product:42";
    private static readonly TimeSpan LongExpiration = TimeSpan.FromHours(1);

    private readonly ServiceProvider _services;

    private RedisHitFixture(RedisBenchServer server, ConnectionMultiplexer raw, ServiceProvider services)
    {
        Server = server;
        Raw = raw;
        RawDatabase = raw.GetDatabase();
        _services = services;
        Strategy = services.GetRequiredService<ICacheStrategy<int, Product>>();
        Distributed = services.GetRequiredService<IDistributedCache>();
        Hybrid = services.GetRequiredService<HybridCache>();
        Fusion = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = FusionOptions });
        Fusion.SetupDistributedCache(Distributed, new FusionCacheSystemTextJsonSerializer());
    }

    public static FusionCacheEntryOptions FusionOptions { get; } = new(LongExpiration) { SkipMemoryCacheRead = true, SkipMemoryCacheWrite = true };

    public static HybridCacheEntryOptions HybridOptions { get; } = new() { Expiration = LongExpiration, Flags = HybridCacheEntryFlags.DisableLocalCache };

    public RedisBenchServer Server { get; }

    public ConnectionMultiplexer Raw { get; }

    public IDatabase RawDatabase { get; }

    public ICacheStrategy<int, Product> Strategy { get; }

    public IDistributedCache Distributed { get; }

    public HybridCache Hybrid { get; }

    public FusionCache Fusion { get; }

    public static async Task<RedisHitFixture> CreateAsync()
    {
        var server = RedisBenchServer.Start();
        var raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var services = new ServiceCollection();
        services.AddCachePatterns()
            .UseRedis(o => o.Configuration = server.Configuration)
            .AddCacheAside<int, Product, ProductLoader>(o =>
            {
                o.Jitter = 0;
                o.Expiration = LongExpiration;
            });

        // RedisCache shares the raw multiplexer, as an application would.
        services.AddStackExchangeRedisCache(o => o.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(raw));
        services.AddHybridCache();
        var fixture = new RedisHitFixture(server, raw, services.BuildServiceProvider());
        await fixture.WarmAsync();
        return fixture;
    }

    /// <summary>A Redis provider of its own on this fixture's server (to time the provider's layer alone).</summary>
    public RedisCacheProvider CreateProvider() =>
        new(Microsoft.Extensions.Options.Options.Create(new RedisCacheProviderOptions { Configuration = Server.Configuration }));

    /// <summary>A store of <paramref name="provider"/> holding <see cref="Key"/> for an hour.</summary>
    public static async Task<ICacheStore<int, Product>> CreateWarmStoreAsync(RedisCacheProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (!new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<Product>(out var serializer))
        {
            throw new InvalidOperationException("No serializer for Product.");
        }

        var store = provider.CreateStore(new CacheStoreDescriptor<int, Product>("Product", "Product:", serializer));
        await store.SetAsync(Key, CacheValue<Product>.Of(Product.Sample), new StoreEntryOptions(LongExpiration), default);
        return store;
    }

    public static Product? Deserialize(RedisValue value) =>
        value.IsNull ? null : JsonSerializer.Deserialize<Product>(((ReadOnlyMemory<byte>)value).Span);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Fusion.Dispose();
        await Raw.DisposeAsync();
        Server.Dispose();
    }

    private async Task WarmAsync()
    {
        await RawDatabase.StringSetAsync(RawKey, JsonSerializer.SerializeToUtf8Bytes(Product.Sample), LongExpiration);
        await Distributed.SetAsync(StringKey, JsonSerializer.SerializeToUtf8Bytes(Product.Sample), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = LongExpiration });
        _ = await Strategy.GetAsync(Key);
        _ = await Fusion.GetOrSetAsync<Product>("fusion:" + StringKey, _ => Task.FromResult(Product.Sample), FusionOptions);
        _ = await Hybrid.GetOrCreateAsync("hybrid:" + StringKey, _ => ValueTask.FromResult(Product.Sample), HybridOptions);
        if (await Strategy.GetAsync(Key) is null || await RawDatabase.StringGetAsync(RawKey) is { IsNull: true })
        {
            throw new InvalidOperationException("The Redis hit fixture did not warm up.");
        }
    }
}
