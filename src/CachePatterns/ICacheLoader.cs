namespace CachePatterns;

/// <summary>
/// Loads values from the system of record (usually a SQL database) when the cache misses.
/// </summary>
/// <typeparam name="TKey">The type of the entity's key.</typeparam>
/// <typeparam name="TValue">The type of the cached entity.</typeparam>
/// <remarks>
/// The loader decides per value whether and for how long it is cached, through the
/// <see cref="LoadResult{TValue}"/> it returns.
/// </remarks>
public interface ICacheLoader<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Loads one value from the database.</summary>
    /// <param name="key">The key to load.</param>
    /// <param name="cancellationToken">Cancelled when every caller waiting for this load has given up.</param>
    /// <returns>What was found, and how it may be cached.</returns>
    ValueTask<LoadResult<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Loads many values in one query. Keys missing from the returned dictionary are treated as not found.
    /// </summary>
    /// <param name="keys">The keys that missed the cache; never empty, no duplicates.</param>
    /// <param name="cancellationToken">Cancelled when the caller gives up.</param>
    /// <returns>The values found, by key.</returns>
    /// <remarks>The default implementation calls <see cref="LoadAsync"/> once per key; override it with a bulk query.</remarks>
    async ValueTask<IReadOnlyDictionary<TKey, LoadResult<TValue>>> LoadManyAsync(
        IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var results = new Dictionary<TKey, LoadResult<TValue>>(keys.Count);
        foreach (var key in keys)
        {
            results[key] = await LoadAsync(key, cancellationToken).ConfigureAwait(false);
        }

        return results;
    }
}
