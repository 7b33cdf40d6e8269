using CachePatterns.Providers;

namespace CachePatterns.Memory.Internal;

/// <summary>
/// The store semantics in process memory: a call cannot fail half-way or be retried, so a write id is never seen twice
/// and a store is a set, a delete an invalidation (both under the key's stripe lock).
/// </summary>
internal sealed partial class MemoryCacheStore<TKey, TValue>
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
