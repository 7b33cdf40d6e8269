namespace CachePatterns.Distributed;

/// <summary>
/// What the <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> registered over a cache is to the
/// application. See docs/architecture.md, "Cache or store".
/// </summary>
public enum DistributedCacheSemantics
{
    /// <summary>
    /// The provider holds the only copy (ASP.NET Core sessions, the default). A read that cannot reach the provider
    /// throws <see cref="CacheUnavailableException"/> (unknown, not absent); a write that fails or times out is retried
    /// with the same write id and, if it still fails, throws it; nothing is ever deleted in a failed write's place.
    /// </summary>
    Store,

    /// <summary>
    /// The provider holds a copy of data that can be recomputed (output caching): a read that cannot reach it misses
    /// (<see langword="null"/>), a write that fails is dropped and the key is invalidated once the provider answers
    /// again, as for the strategies.
    /// </summary>
    Cache,
}
