namespace CachePatterns.NearCache;

/// <summary>
/// Options of the near cache (L1): a bounded in-process copy of hot entries in front of an out-of-process provider
/// (Redis, memcached), turned on per named cache with <see cref="CachePatternsBuilder.WithNearCache"/> and off per strategy
/// with <see cref="CacheStrategyOptions.UseNearCache"/>. See docs/architecture.md, "Near cache".
/// </summary>
/// <remarks>
/// <para>With a provider that pushes invalidations (Redis: <see cref="Providers.ICacheProvider.Invalidations"/>), a write
/// or invalidation made through the library in any process drops the other processes' copies within the measured
/// invalidation delay, and no copy is served while the invalidation channel is known to be down.</para>
/// <para>With a provider that cannot push (memcached), a copy lives at most <see cref="MaxStaleness"/>: other processes may
/// read a value up to that long after it was changed elsewhere. Changes made by this process drop its own copies at once.</para>
/// </remarks>
public sealed class NearCacheOptions
{
    /// <summary>The default of <see cref="MaxStaleness"/>: one second.</summary>
    public static readonly TimeSpan DefaultMaxStaleness = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the most entries the near cache of one strategy holds (least recently used first out). Default: 10,000.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the most bytes the near cache of one strategy holds; <see langword="null"/> (default) for no byte bound.
    /// Sizes come from the strategy's size function or, without one, the serialized length (measured when an entry is
    /// copied in, never on a hit).
    /// </summary>
    public long? MaxBytes { get; set; }

    /// <summary>
    /// Gets or sets the longest a copy lives in the near cache, whatever the entry's own expiration (a copy also never lives
    /// longer than its strategy's <see cref="CacheStrategyOptions.Expiration"/>, nor, for sliding entries, half the sliding
    /// window). The bound on staleness for changes no invalidation reports (made outside the library). Default: 1 minute.
    /// </summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets the longest a copy lives in front of a provider that cannot push invalidations to other processes
    /// (memcached): what another process may read after a change is at most this old. Not used with a provider that pushes
    /// invalidations (Redis). Default: <see cref="DefaultMaxStaleness"/> (1 s).
    /// </summary>
    public TimeSpan MaxStaleness { get; set; } = DefaultMaxStaleness;

    /// <summary>Gets or sets a value indicating whether <see cref="CachePatternsBuilder.WithNearCache"/> turned the near cache on.</summary>
    internal bool Enabled { get; set; }
}
