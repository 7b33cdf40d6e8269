namespace CachePatterns;

/// <summary>
/// A named cache for code without a registered loader: get-or-load with a factory (like FusionCache's
/// GetOrSet and HybridCache's GetOrCreate), with the same single-flight loads and fenced fills as the strategies.
/// Resolve the default one as <c>ICache</c>, named ones with <c>[FromKeyedServices("name")] ICache</c>.
/// </summary>
public interface ICache
{
    /// <summary>Gets the cache's name.</summary>
    string Name { get; }

    /// <summary>Reads a value, loading it with <paramref name="factory"/> on a miss (one load for concurrent callers).</summary>
    /// <typeparam name="TState">The type of the state passed to the factory (avoids a closure).</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="state">The state passed to <paramref name="factory"/>.</param>
    /// <param name="factory">Loads the value on a miss.</param>
    /// <param name="options">The entry's expiration; <see langword="null"/> uses the cache's defaults.</param>
    /// <param name="cancellationToken">Cancels this caller's wait; a load shared with other callers goes on.</param>
    /// <returns>The value.</returns>
    ValueTask<TValue> GetOrLoadAsync<TState, TValue>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<TValue>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>Reads a value from the cache only.</summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Whether a value was found, and the value.</returns>
    ValueTask<(bool Found, TValue? Value)> TryGetAsync<TValue>(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores a value, revoking loads in progress for the key.</summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">The entry's expiration; <see langword="null"/> uses the cache's defaults.</param>
    /// <param name="cancellationToken">Cancels the store.</param>
    /// <returns>A task that completes when the value is stored.</returns>
    ValueTask SetAsync<TValue>(string key, TValue value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a key (whatever the type of its value), revoking loads in progress.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes when the key is removed.</returns>
    ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Invalidates a tag in this named cache: every entry carrying it (<see cref="CacheEntryOptions.Tags"/>), stored by any
    /// owner of the cache (strategies, this ad-hoc cache) in any process sharing the provider, is a miss once this returns,
    /// and a value whose load began before this returned is not stored as valid (the fill is fenced, as for a key).
    /// </summary>
    /// <remarks>
    /// When the provider cannot be reached (down, hung, circuit open), nothing is thrown, as for <see cref="RemoveAsync"/>:
    /// the invalidation is remembered and replayed as soon as the provider answers, and until then this process reads
    /// nothing from the cache, so it never serves an entry from before the call. Other processes may read such entries
    /// until the replay reaches the provider (docs/architecture.md, "The tag ledger").
    /// </remarks>
    /// <param name="tag">The tag (see <see cref="CacheTags.Validate"/>; <see cref="CacheTags.Wildcard"/> is reserved).</param>
    /// <param name="cancellationToken">
    /// Cancels the wait. Once the call was sent the invalidation is remembered as if it had failed (it may or may not have
    /// reached the provider) and the cancellation is thrown.
    /// </param>
    /// <returns>A task that completes when the tag is invalidated, or remembered for a replay.</returns>
    /// <exception cref="ArgumentException">The tag is not allowed.</exception>
    ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken = default);
}
