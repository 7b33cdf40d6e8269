namespace CachePatterns.Providers;

/// <summary>The result of <see cref="ICacheStore{TKey, TValue}.GetAsync"/>.</summary>
/// <typeparam name="TValue">The type of the value.</typeparam>
/// <param name="Status">Hit, miss, stale or miss with the lease held elsewhere.</param>
/// <param name="Value">
/// The value for <see cref="CacheLookupStatus.Hit"/>, <see cref="CacheLookupStatus.Stale"/> and
/// <see cref="CacheLookupStatus.StaleLeaseHeldElsewhere"/>.
/// </param>
/// <param name="Lease">The fill lease, when one was asked for and granted.</param>
/// <param name="ExpiredFor">
/// For a stale value, how long ago it expired; <see langword="null"/> when the provider cannot tell, in which case
/// the value is served only as fail-safe (never as stale-while-revalidate, whose window could not be checked).
/// </param>
public readonly record struct CacheLookup<TValue>(CacheLookupStatus Status, CacheValue<TValue> Value, CacheLease Lease, TimeSpan? ExpiredFor = null)
{
    /// <summary>Gets a miss without a lease.</summary>
    public static CacheLookup<TValue> Miss => default;

    /// <summary>Gets the lookup of a provider that could not answer.</summary>
    public static CacheLookup<TValue> Unavailable => new(CacheLookupStatus.Unavailable, default, CacheLease.None);

    /// <summary>Creates a hit.</summary>
    /// <param name="value">The value found.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Hit(CacheValue<TValue> value) => new(CacheLookupStatus.Hit, value, CacheLease.None);

    /// <summary>Creates a stale lookup.</summary>
    /// <param name="value">The expired value still retained.</param>
    /// <param name="lease">The fill lease granted with it, or <see cref="CacheLease.None"/>.</param>
    /// <param name="expiredFor">How long ago the value expired.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Stale(CacheValue<TValue> value, CacheLease lease, TimeSpan expiredFor) =>
        new(CacheLookupStatus.Stale, value, lease, expiredFor);
}
