using CachePatterns.Providers;

namespace CachePatterns.Internal;

/// <summary>
/// A store that can answer a fresh hit synchronously from process memory (the in-memory provider's store and the near
/// cache). The strategies try it before <see cref="ICacheStore{TKey, TValue}.GetAsync"/>, so a hit needs no
/// <see cref="CacheLookup{TValue}"/>, no <see cref="ValueTask"/> of one and no lease logic (docs/benchmarks.md,
/// "HybridCache implementations side by side": those copies were most of the hit's cost). Internal: not part of the
/// provider contract; a store without it is read through <c>GetAsync</c> as before.
/// </summary>
internal interface ISynchronousHitStore<TKey, TValue>
    where TKey : notnull
{
    /// <summary>
    /// Returns a fresh entry of <paramref name="key"/> exactly as <c>GetAsync(key, acquireLease: false)</c> would return
    /// it as a <see cref="CacheLookupStatus.Hit"/> (same checks, same side effects: sliding renewal, near-cache hit count);
    /// <see langword="false"/> for anything else (miss, stale, invalidated tag, store not serving), which the caller then
    /// reads through <c>GetAsync</c>.
    /// </summary>
    bool TryGetHit(TKey key, out CacheValue<TValue> value);
}
