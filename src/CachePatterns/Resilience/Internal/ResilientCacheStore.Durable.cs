using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The store-semantics members, for completeness of the contract: they run under the pipeline and let every failure
/// through (nothing is remembered). The core calls them through <see cref="ResilientDurableStore{TKey, TValue}"/>, not here.
/// </summary>
internal sealed partial class ResilientCacheStore<TKey, TValue>
{
    public ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (s, ct) => s.Inner.StoreAsync(s.Key, s.Value, s.Options, s.Id, ct),
            (Inner: _inner, Key: key, Value: value, Options: options, Id: writeId),
            cancellationToken);

    public ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (s, ct) => s.Inner.DeleteAsync(s.Key, s.Id, ct),
            (Inner: _inner, Key: key, Id: writeId),
            cancellationToken);
}
