namespace CachePatterns.Providers;

/// <summary>The outcome of a cache lookup.</summary>
public enum CacheLookupStatus
{
    /// <summary>No fresh entry. When a lease was asked for and granted, <see cref="CacheLookup{TValue}.Lease"/> holds it.</summary>
    Miss = 0,

    /// <summary>A fresh entry was found.</summary>
    Hit = 1,

    /// <summary>
    /// An expired entry still retained for stale serving was found (fail-safe or stale-while-revalidate).
    /// A lease is granted as for <see cref="Miss"/>; <see cref="CacheLookup{TValue}.ExpiredFor"/> says how stale it is.
    /// </summary>
    Stale = 2,

    /// <summary>
    /// No fresh entry, and another client holds the fill lease (it is loading the value right now).
    /// Wait briefly and look again rather than load too.
    /// </summary>
    MissLeaseHeldElsewhere = 3,

    /// <summary>
    /// The provider could not answer (down, timed out, circuit open, node dead): a miss, and the caller
    /// should not spend further calls on the provider for this read (no lease, no fill).
    /// </summary>
    Unavailable = 4,

    /// <summary>
    /// An expired entry still retained for stale serving was found, and another client holds the fill lease
    /// (it is refreshing the value right now): the value travels along, without a lease. A strategy that allows
    /// stale-while-revalidate serves it; otherwise it waits as for <see cref="MissLeaseHeldElsewhere"/> and keeps
    /// the value for fail-safe.
    /// </summary>
    StaleLeaseHeldElsewhere = 5,
}
