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
    /// <summary>
    /// Gets, for a <see cref="CacheLookupStatus.Hit"/>, how long a copy of the value may be served without asking the provider
    /// again, counted from this read: the entry's remaining life on the provider, and for a sliding entry half its window
    /// (at most its remaining absolute life; a copy's reads do not renew the provider's expiration, so a reader that asks
    /// again by then renews it in time). A near cache bounds its copy by it. <see langword="null"/> when the provider does not
    /// tell (the near cache then uses only its own bounds, see docs/architecture.md, "Near cache"); providers with a near cache
    /// in front must tell (Redis, memcached). Zero when the provider cannot judge it now (nothing is copied).
    /// </summary>
    public TimeSpan? FreshFor { get; init; }

    /// <summary>
    /// Gets, for a <see cref="CacheLookupStatus.Hit"/>, the entry's tags: empty when it has none, <see langword="null"/> when
    /// the provider does not tell (a near cache then drops its copy on every tag invalidation).
    /// </summary>
    public IReadOnlyCollection<string>? Tags { get; init; }

    /// <summary>Gets a miss without a lease.</summary>
    public static CacheLookup<TValue> Miss => default;

    /// <summary>Gets the lookup of a provider that could not answer.</summary>
    public static CacheLookup<TValue> Unavailable => new(CacheLookupStatus.Unavailable, default, CacheLease.None);

    /// <summary>Creates a hit.</summary>
    /// <param name="value">The value found.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Hit(CacheValue<TValue> value) => new(CacheLookupStatus.Hit, value, CacheLease.None);

    /// <summary>Creates a hit that says how long a copy may be served and which tags the entry carries.</summary>
    /// <param name="value">The value found.</param>
    /// <param name="freshFor">See <see cref="FreshFor"/>.</param>
    /// <param name="tags">See <see cref="Tags"/>.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Hit(CacheValue<TValue> value, TimeSpan? freshFor, IReadOnlyCollection<string>? tags) =>
        new(CacheLookupStatus.Hit, value, CacheLease.None) { FreshFor = freshFor, Tags = tags };

    /// <summary>Creates a stale lookup.</summary>
    /// <param name="value">The expired value still retained.</param>
    /// <param name="lease">The fill lease granted with it, or <see cref="CacheLease.None"/>.</param>
    /// <param name="expiredFor">How long ago the value expired.</param>
    /// <returns>The lookup.</returns>
    public static CacheLookup<TValue> Stale(CacheValue<TValue> value, CacheLease lease, TimeSpan expiredFor) =>
        new(CacheLookupStatus.Stale, value, lease, expiredFor);
}
