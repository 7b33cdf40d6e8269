using CachePatterns.Internal;
using CachePatterns.Providers;
using CachePatterns.Resilience.Internal;

namespace CachePatterns.Distributed;

/// <summary>
/// <see cref="DistributedCacheSemantics.Store"/>: the provider holds the only copy (sessions). A failure reaches the
/// caller as <see cref="CacheUnavailableException"/> after the retries of <see cref="ResilientDurableStore{TKey, TValue}"/>;
/// a read never answers "absent" for "could not ask", and a failed write is never replayed as a delete.
/// </summary>
internal sealed class StoreSemanticsAdapter(ResilientDurableStore<string, byte[]> store, TimeProvider time, StrategyInstruments instruments)
    : DistributedCacheAdapter(time, instruments)
{
    protected override ValueTask<CacheValue<byte[]>> GetCoreAsync(string key, CancellationToken cancellationToken) =>
        store.GetAsync(key, cancellationToken);

    protected override ValueTask SetCoreAsync(string key, byte[] value, StoreEntryOptions options, CancellationToken cancellationToken) =>
        store.SetAsync(key, CacheValue<byte[]>.Of(value), options, cancellationToken);

    protected override ValueTask RefreshCoreAsync(string key, CancellationToken cancellationToken) =>
        store.RefreshAsync(key, cancellationToken);

    protected override ValueTask RemoveCoreAsync(string key, CancellationToken cancellationToken) =>
        store.RemoveAsync(key, cancellationToken);
}
