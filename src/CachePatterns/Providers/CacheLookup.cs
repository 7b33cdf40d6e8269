namespace CachePatterns.Providers;

/// <summary>The result of <see cref="ICacheStore{TKey, TValue}.GetAsync"/>.</summary>
/// <typeparam name="TValue">The type of the value.</typeparam>
/// <param name="Status">Hit, miss, stale or miss with the lease held elsewhere.</param>
/// <param name="Value">The value for <see cref="CacheLookupStatus.Hit"/> and <see cref="CacheLookupStatus.Stale"/>.</param>
/// <param name="Lease">The fill lease, when one was asked for and granted.</param>
public readonly record struct CacheLookup<TValue>(CacheLookupStatus Status, CacheValue<TValue> Value, CacheLease Lease)
{
    /// <summary>Gets a miss without a lease.</summary>
    public static CacheLookup<TValue> Miss => default;

    /// <summary>Gets the lookup of a provider that could not answer.</summary>
    public static CacheLookup<TValue> Unavailable => new(CacheLookupStatus.Unavailable, default, CacheLease.None);

    /// <summary>Creates a hit.</summary>
    /// <param name="value">The value found.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Hit(CacheValue<TValue> value) => new(CacheLookupStatus.Hit, value, CacheLease.None);
}
