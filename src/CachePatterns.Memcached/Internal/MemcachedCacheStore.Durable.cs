using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// The store semantics on memcached. The provider remembers nothing itself (a failure is only thrown), so a store is a
/// set and a delete an invalidation. memcached keeps no history of write ids: a retry is applied again, so a retry
/// that arrives after another client's newer write overwrites it, and a request that timed out may still be applied
/// when a paused server resumes (docs/providers.md, "IDistributedCache conformance").
/// </summary>
internal sealed partial class MemcachedCacheStore<TKey, TValue>
{
    public async ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        await SetAsync(key, value, options, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
