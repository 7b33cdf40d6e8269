namespace CachePatterns;

/// <summary>Creates <see cref="LoadResult{TValue}"/> values.</summary>
public static class LoadResult
{
    /// <summary>The value was found; cache it with the strategy's expiration or <paramref name="options"/>.</summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="value">The value found.</param>
    /// <param name="options">An optional per-entry expiration.</param>
    /// <returns>The result.</returns>
    public static LoadResult<TValue> Found<TValue>(TValue value, CacheEntryOptions? options = null) =>
        new(found: true, value, cacheable: true, options);

    /// <summary>The value was found but must not be cached (for example, a row being edited).</summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="value">The value found.</param>
    /// <returns>The result.</returns>
    public static LoadResult<TValue> DoNotCache<TValue>(TValue value) =>
        new(found: true, value, cacheable: false, options: null);

    /// <summary>
    /// Nothing was found. The miss is cached only when the strategy enables negative caching
    /// (<see cref="CacheStrategyOptions.NegativeCacheExpiration"/>) or <paramref name="options"/> is given.
    /// </summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="options">An optional expiration for the negative entry.</param>
    /// <returns>The result.</returns>
    public static LoadResult<TValue> NotFound<TValue>(CacheEntryOptions? options = null) =>
        new(found: false, default, cacheable: true, options);
}
