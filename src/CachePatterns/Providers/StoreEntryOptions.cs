namespace CachePatterns.Providers;

/// <summary>
/// The resolved expiration of one entry, as a provider stores it: jitter already applied,
/// every value relative to the moment of the store call.
/// </summary>
/// <param name="AbsoluteExpiration">Time to live from now; <see langword="null"/> for none.</param>
/// <param name="SlidingExpiration">Idle time after which the entry expires; <see langword="null"/> for none.</param>
/// <param name="StaleRetention">
/// How long past its expiration the provider should keep the entry so that it can be served as a stale value
/// (<see cref="CacheLookupStatus.Stale"/>): while it is being refreshed (stale-while-revalidate) or when the
/// database fails (fail-safe); zero for none.
/// </param>
public readonly record struct StoreEntryOptions(
    TimeSpan? AbsoluteExpiration,
    TimeSpan? SlidingExpiration = null,
    TimeSpan StaleRetention = default)
{
    /// <summary>Gets options for an entry that never expires (only capacity evicts it).</summary>
    public static StoreEntryOptions NoExpiration => default;

    /// <summary>
    /// Gets the entry's tags (validated, without duplicates), <see langword="null"/> for none. A provider stores them with
    /// the entry and answers <see cref="CacheLookupStatus.Miss"/> for it once any of them is invalidated
    /// (<see cref="ICacheProvider.InvalidateTagAsync"/>) after the entry's stamp: the lease grant for a fill, the call for
    /// a set or write completion.
    /// </summary>
    public IReadOnlyCollection<string>? Tags { get; init; }

    /// <summary>Gets the time after which the provider may drop the entry entirely.</summary>
    /// <returns>The physical time to live, or <see langword="null"/> when the entry has no expiration.</returns>
    public TimeSpan? PhysicalTimeToLive()
    {
        TimeSpan? ttl = (AbsoluteExpiration, SlidingExpiration) switch
        {
            ({ } a, { } s) => a < s ? a : s,
            ({ } a, null) => a,
            (null, { } s) => s,
            _ => null,
        };
        return ttl + StaleRetention;
    }
}
