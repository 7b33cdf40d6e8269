namespace CachePatterns;

/// <summary>
/// What a loader found for one key, and whether and how long the cache may keep it.
/// Create instances with <see cref="LoadResult"/>.
/// </summary>
/// <typeparam name="TValue">The type of the cached entity.</typeparam>
public readonly struct LoadResult<TValue>
{
    internal LoadResult(bool found, TValue? value, bool cacheable, CacheEntryOptions? options)
    {
        Found = found;
        Value = value;
        Cacheable = cacheable;
        Options = options;
    }

    /// <summary>Gets a value indicating whether the database had a value for the key.</summary>
    public bool Found { get; }

    /// <summary>Gets the value, or <see langword="default"/> when nothing was found.</summary>
    public TValue? Value { get; }

    /// <summary>Gets a value indicating whether the result may be stored in the cache.</summary>
    public bool Cacheable { get; }

    /// <summary>Gets the expiration for this entry, overriding the strategy's defaults; <see langword="null"/> uses them.</summary>
    public CacheEntryOptions? Options { get; }
}
