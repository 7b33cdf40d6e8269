using System.ComponentModel.DataAnnotations;

namespace CachePatterns;

/// <summary>
/// Options of one strategy (one entity type). Registered as named options, the name being the
/// strategy's name (by default the value type's name), and validated when the host starts.
/// </summary>
public sealed class CacheStrategyOptions
{
    /// <summary>Gets or sets how writes keep the cache in step: cache-aside (default) or write-through.</summary>
    public CacheStrategyKind Kind { get; set; } = CacheStrategyKind.CacheAside;

    /// <summary>
    /// Gets or sets the key namespace of this strategy in the provider (for example <c>product</c>),
    /// so two entity types with equal keys never collide. Defaults to the value type's name.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>Gets or sets the default time to live of an entry, counted from when it is stored. Default: 5 minutes.</summary>
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the default idle time after which an entry expires; <see langword="null"/> (default) for none.</summary>
    public TimeSpan? SlidingExpiration { get; set; }

    /// <summary>
    /// Gets or sets the random spread applied to every expiration, as a fraction: 0.1 means ±10 %,
    /// so entries written together do not expire together. Default 0.1; 0 turns jitter off.
    /// </summary>
    [Range(0.0, 0.5)]
    public double Jitter { get; set; } = 0.1;

    /// <summary>
    /// Gets or sets how long a "not found" from the loader is cached (negative caching);
    /// <see langword="null"/> (default) caches nothing for missing keys.
    /// </summary>
    public TimeSpan? NegativeCacheExpiration { get; set; }

    /// <summary>
    /// Gets or sets how long an expired value is kept to be served when the loader fails (fail-safe);
    /// <see langword="null"/> (default) turns fail-safe off.
    /// </summary>
    public TimeSpan? FailSafeMaxStaleness { get; set; }

    /// <summary>
    /// Gets or sets how long after its expiration a value is still served at once while one caller refreshes it
    /// in the background (stale-while-revalidate): readers never wait for the database on a recently expired key.
    /// <see langword="null"/> (default) turns it off: a reader of an expired key waits for the load.
    /// </summary>
    /// <remarks>
    /// The refresh runs after the reader has returned, so a factory passed to
    /// <see cref="ICacheStrategy{TKey, TValue}.GetOrLoadAsync{TState}"/> must not capture request-scoped resources.
    /// Across processes, the provider's fill lease makes one of them refresh; the others keep serving the stale value.
    /// </remarks>
    public TimeSpan? StaleWhileRevalidate { get; set; }

    /// <summary>
    /// Gets or sets the longest a reader waits for another process that holds the fill lease of a key (it is loading
    /// the key) before it loads from the database itself, without storing the result. Default: 30 seconds.
    /// </summary>
    /// <remarks>
    /// The reader waits while the provider reports the lease held: until the holder fills the key or gives the lease
    /// back, however slow its loader, or until the lease expires on the server (a holder that died: Redis
    /// <c>LeaseTimeout</c>, 10 s by default; memcached <c>LeaseTime</c>, 30 s). Then the first reader to look takes the
    /// lease and loads, so one process loads, not every one. Keep this at least as long as the provider's lease time;
    /// a shorter bound makes every waiting process load once when the holder is slower than it.
    /// </remarks>
    public TimeSpan LeaseWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often a waiting reader looks for the other process's value. Default: 20 ms.</summary>
    public TimeSpan LeaseWaitPollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets a value indicating whether this strategy uses its cache's near cache (L1), when the cache has one
    /// (<see cref="CachePatternsBuilder.WithNearCache"/>). Default: <see langword="true"/>; set <see langword="false"/> for
    /// entities that change too often to gain from an in-process copy, or that must never be read older than the provider.
    /// </summary>
    public bool UseNearCache { get; set; } = true;
}
