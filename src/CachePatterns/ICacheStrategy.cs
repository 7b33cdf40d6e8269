namespace CachePatterns;

/// <summary>
/// What the application calls to read and write one entity type through the cache.
/// Reads go to the cache first and load from the database on a miss; writes go to the
/// database first and then update or invalidate the cache, according to the strategy's
/// <see cref="CacheStrategyKind"/>.
/// </summary>
/// <typeparam name="TKey">The type of the entity's key.</typeparam>
/// <typeparam name="TValue">The type of the cached entity.</typeparam>
/// <remarks>
/// A fill that started before a write or an invalidation of the same key never overwrites the
/// newer state, and concurrent misses of one key run one load. Cache failures never fail a read.
/// Values held by an in-memory provider are shared between callers: treat them as immutable.
/// </remarks>
public interface ICacheStrategy<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Gets the strategy's name, used in metrics, traces and logs.</summary>
    string Name { get; }

    /// <summary>Reads a value: from the cache, or from the loader on a miss (then cached).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels this caller's wait; a load shared with other callers goes on.</param>
    /// <returns>The value, or <see langword="default"/> when the database has none.</returns>
    ValueTask<TValue?> GetAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Reads the cache only, never the database.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Whether a fresh value was cached (a cached "not found" is not a value), and the value.</returns>
    ValueTask<(bool Found, TValue? Value)> TryGetAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads many values with one cache round trip and one bulk load (<see cref="ICacheLoader{TKey, TValue}.LoadManyAsync"/>) for the misses.
    /// </summary>
    /// <param name="keys">The keys; duplicates are read once.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The values found, by key; keys the database does not have are absent.</returns>
    ValueTask<IReadOnlyDictionary<TKey, TValue>> GetManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a value, loading it with <paramref name="factory"/> on a miss instead of the registered loader.
    /// </summary>
    /// <typeparam name="TState">The type of the state passed to the factory (avoids a closure).</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="state">The state passed to <paramref name="factory"/>.</param>
    /// <param name="factory">Loads the value on a miss.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>The value, or <see langword="default"/> when the factory found none.</returns>
    ValueTask<TValue?> GetOrLoadAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a value: to the database first (through the registered writer), then to the cache
    /// (write-through) or by invalidating the key (cache-aside).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">An optional per-entry expiration (write-through).</param>
    /// <param name="cancellationToken">Cancels the database write; once it is done, the cache is updated regardless.</param>
    /// <returns>A task that completes when database and cache are updated.</returns>
    /// <exception cref="InvalidOperationException">No writer is registered for this strategy.</exception>
    ValueTask WriteAsync(TKey key, TValue value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a value from the database (through the registered writer), then from the cache.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the database delete; once it is done, the cache is updated regardless.</param>
    /// <returns>A task that completes when database and cache are updated.</returns>
    /// <exception cref="InvalidOperationException">No writer is registered for this strategy.</exception>
    ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a key from the cache only (the database is untouched), revoking every fill in progress,
    /// so the next read loads from the database.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the invalidation.</param>
    /// <returns>A task that completes when the key is invalidated.</returns>
    ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken = default);
}
