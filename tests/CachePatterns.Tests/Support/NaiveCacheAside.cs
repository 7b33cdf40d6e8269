using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>
/// Deliberately wrong cache-aside, as most hand-written caches and the peers do it: on a miss it loads and
/// stores the result unconditionally (no lease), so a load that read the database before a write can
/// overwrite the write's invalidation. The checker must find the stale entries it leaves.
/// </summary>
public sealed class NaiveCacheAside : CheckedStrategy
{
    private readonly ICacheStore<int, string> _store;
    private readonly ICheckedDatabase _database;
    private static readonly StoreEntryOptions Forever = StoreEntryOptions.NoExpiration;

    public NaiveCacheAside(ICacheStore<int, string> store, ICheckedDatabase database)
    {
        _store = store;
        _database = database;
    }

    public override string Name => "naive";

    public override async ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default)
    {
        var lookup = await _store.GetAsync(key, acquireLease: false, cancellationToken);
        if (lookup.Status == CacheLookupStatus.Hit)
        {
            return lookup.Value.Value;
        }

        var loaded = await _database.LoadAsync(key, cancellationToken);
        if (loaded.Found)
        {
            await _store.SetAsync(key, CacheValue<string>.Of(loaded.Value!), Forever, cancellationToken);
        }

        return loaded.Value;
    }

    public override async ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default)
    {
        var lookup = await _store.GetAsync(key, acquireLease: false, cancellationToken);
        return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
    }

    public override async ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        await _database.WriteAsync(key, value, cancellationToken);
        await _store.InvalidateAsync(key, cancellationToken);
    }

    public override async ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default)
    {
        await _database.DeleteAsync(key, cancellationToken);
        await _store.InvalidateAsync(key, cancellationToken);
    }

    public override ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default) => _store.InvalidateAsync(key, cancellationToken);
}
