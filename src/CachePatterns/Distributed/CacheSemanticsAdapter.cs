using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Distributed;

/// <summary>
/// <see cref="DistributedCacheSemantics.Cache"/>: the entries can be recomputed (output caching). The store is the
/// strategies' resilient one: a provider failure makes a read miss and a write be remembered as an invalidation.
/// </summary>
internal sealed class CacheSemanticsAdapter(ICacheStore<string, byte[]> store, TimeProvider time, StrategyInstruments instruments)
    : DistributedCacheAdapter(time, instruments)
{
    protected override async ValueTask<CacheValue<byte[]>> GetCoreAsync(string key, CancellationToken cancellationToken)
    {
        var lookup = await store.GetAsync(key, acquireLease: false, cancellationToken).ConfigureAwait(false);
        return lookup.Status == CacheLookupStatus.Hit ? lookup.Value : CacheValue<byte[]>.NotFound;
    }

    protected override ValueTask SetCoreAsync(string key, byte[] value, StoreEntryOptions options, CancellationToken cancellationToken) =>
        store.SetAsync(key, CacheValue<byte[]>.Of(value), options, cancellationToken);

    protected override ValueTask RefreshCoreAsync(string key, CancellationToken cancellationToken) =>
        store.RefreshAsync(key, cancellationToken);

    protected override ValueTask RemoveCoreAsync(string key, CancellationToken cancellationToken) =>
        store.InvalidateAsync(key, cancellationToken);
}
