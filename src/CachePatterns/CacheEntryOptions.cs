namespace CachePatterns;

/// <summary>
/// How long one entry stays in the cache: overrides the strategy's defaults for a single value.
/// </summary>
/// <remarks>
/// An entry expires at the earlier of its absolute expiration (counted from when it was stored)
/// and its sliding expiration (counted from when it was last read).
/// </remarks>
public sealed record CacheEntryOptions
{
    private readonly TimeSpan? _expiration;
    private readonly TimeSpan? _slidingExpiration;
    private readonly IReadOnlyCollection<string>? _tags;

    /// <summary>Gets the time after which the entry expires, counted from when it is stored.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan? Expiration
    {
        get => _expiration;
        init => _expiration = Guard.PositiveOrNull(value, nameof(Expiration));
    }

    /// <summary>Gets the time after which the entry expires if nobody reads it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan? SlidingExpiration
    {
        get => _slidingExpiration;
        init => _slidingExpiration = Guard.PositiveOrNull(value, nameof(SlidingExpiration));
    }

    /// <summary>
    /// Gets the entry's tags: <see cref="ICache.InvalidateTagAsync"/> of any of them makes the entry a miss, in every
    /// process. A value loaded while one of its tags was invalidated is never stored as valid (the fill is fenced).
    /// <see langword="null"/> or empty for none. Duplicates are dropped.
    /// </summary>
    /// <exception cref="ArgumentException">A tag is not allowed (see <see cref="CacheTags.Validate"/>).</exception>
    public IReadOnlyCollection<string>? Tags
    {
        get => _tags;
        init => _tags = CacheTags.Normalize(value, nameof(Tags));
    }

    /// <summary>Creates options with an absolute expiration.</summary>
    /// <param name="expiration">The time to live.</param>
    /// <returns>The options.</returns>
    public static CacheEntryOptions ExpireAfter(TimeSpan expiration) => new() { Expiration = expiration };

    /// <summary>Creates options with a sliding expiration.</summary>
    /// <param name="slidingExpiration">The idle time after which the entry expires.</param>
    /// <returns>The options.</returns>
    public static CacheEntryOptions ExpireAfterIdle(TimeSpan slidingExpiration) => new() { SlidingExpiration = slidingExpiration };
}
