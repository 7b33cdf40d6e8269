using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CachePatterns.Tests.Support;

/// <summary>
/// FusionCache 2.9 as its users run it on several nodes (memory level, Redis level, Redis backplane), used the way its
/// docs show for cache-aside: <c>GetOrSetAsync</c> with the database as factory, and after a database change
/// <c>RemoveAsync</c> (which removes the Redis copy and tells the other nodes to drop theirs). Measured by the checker in
/// benchmark mode (<c>consistency</c>), not asserted: it has no fencing, so stale reads are expected.
/// </summary>
public sealed class FusionCacheStrategy : CheckedStrategy, IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IFusionCache _cache;
    private readonly ICheckedDatabase _database;
    private readonly string _prefix;

    public FusionCacheStrategy(string redisConfiguration, string prefix, ICheckedDatabase database, bool memoryLevel = true)
    {
        var services = new ServiceCollection();
        services.AddFusionCache()
            .WithDefaultEntryOptions(new FusionCacheEntryOptions(TimeSpan.FromHours(1)) { SkipMemoryCacheRead = !memoryLevel, SkipMemoryCacheWrite = !memoryLevel })
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redisConfiguration }))
            .WithBackplane(new RedisBackplane(new RedisBackplaneOptions { Configuration = redisConfiguration }));
        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<IFusionCache>();
        _database = database;
        _prefix = prefix;
    }

    public override string Name => "fusioncache";

    public override async ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default) =>
        await _cache.GetOrSetAsync<string?>(Key(key), async (_, token) => (await _database.LoadAsync(key, token)).Value, token: cancellationToken);

    public override async ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default)
    {
        var maybe = await _cache.TryGetAsync<string?>(Key(key), token: cancellationToken);
        return (maybe.HasValue, maybe.GetValueOrDefault());
    }

    public override async ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        await _database.WriteAsync(key, value, cancellationToken);
        await _cache.RemoveAsync(Key(key), token: cancellationToken);
    }

    public override async ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default)
    {
        await _database.DeleteAsync(key, cancellationToken);
        await _cache.RemoveAsync(Key(key), token: cancellationToken);
    }

    public override ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default) => _cache.RemoveAsync(Key(key), token: cancellationToken);

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private string Key(int key) => _prefix + key.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
