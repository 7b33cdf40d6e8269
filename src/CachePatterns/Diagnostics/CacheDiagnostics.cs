namespace CachePatterns.Diagnostics;

/// <summary>The names under which CachePatterns publishes metrics and traces (see docs/architecture.md, "Observability").</summary>
public static class CacheDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and of the <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string SourceName = "CachePatterns";

    /// <summary>The name of the read/write router's meter (package <c>CachePatterns.Routing</c>).</summary>
    public const string RoutingMeterName = "CachePatterns.Routing";

    /// <summary>
    /// Gets the name of every <see cref="System.Diagnostics.Metrics.Meter"/> the library and its providers and router publish,
    /// for telemetry SDKs (<c>CachePatterns.OpenTelemetry</c> adds them all).
    /// </summary>
    public static IReadOnlyList<string> MeterNames { get; } = [SourceName, RoutingMeterName];

    /// <summary>Gets the name of every <see cref="System.Diagnostics.ActivitySource"/> the library and its providers and router publish.</summary>
    public static IReadOnlyList<string> ActivitySourceNames { get; } = [SourceName];

    /// <summary>
    /// Gets the histogram bucket boundaries, in seconds, advised for loader calls (database queries: 0.5 ms to 10 s);
    /// see docs/telemetry.md.
    /// </summary>
    public static IReadOnlyList<double> LoadDurationBuckets { get; } =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// Gets the histogram bucket boundaries, in seconds, advised for calls to a cache server or an in-process cache
    /// (50 µs to 1 s: a hit is sub-millisecond, a call cut by the provider's timeout about 0.5 s); see docs/telemetry.md.
    /// </summary>
    public static IReadOnlyList<double> CacheCallDurationBuckets { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    /// <summary>
    /// Gets the histogram bucket boundaries, in seconds, advised for health probes of database endpoints (a round trip of
    /// 1 ms to a probe timeout of several seconds); see docs/telemetry.md.
    /// </summary>
    public static IReadOnlyList<double> ProbeDurationBuckets { get; } =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Counter: reads served from the cache. Tags: <c>cache.name</c>.</summary>
    public const string Hits = "cachepatterns.hits";

    /// <summary>Counter: reads that missed the cache. Tags: <c>cache.name</c>.</summary>
    public const string Misses = "cachepatterns.misses";

    /// <summary>Counter: loader calls (one per single-flight load or bulk load). Tags: <c>cache.name</c>, <c>outcome</c> (success, failure).</summary>
    public const string Loads = "cachepatterns.loads";

    /// <summary>Histogram, seconds: loader call duration. Tags: <c>cache.name</c>.</summary>
    public const string LoadDuration = "cachepatterns.load.duration";

    /// <summary>Counter: entries that left the cache. Tags: <c>cache.name</c>, <c>reason</c> (removed, expired, capacity, size, corrupt).</summary>
    public const string Evictions = "cachepatterns.evictions";

    /// <summary>Counter: failed or short-circuited provider calls. Tags: <c>cache.name</c>, <c>operation</c>.</summary>
    public const string ProviderErrors = "cachepatterns.provider.errors";

    /// <summary>Counter: stale values served because the loader failed (fail-safe). Tags: <c>cache.name</c>.</summary>
    public const string StaleServed = "cachepatterns.stale_served";

    /// <summary>Counter: fills refused because a write or invalidation revoked their lease. Tags: <c>cache.name</c>.</summary>
    public const string FillsFenced = "cachepatterns.fills.fenced";

    /// <summary>
    /// Counter: values a full provider refused to store (Redis <c>OOM</c> under <c>noeviction</c>); the value was not
    /// cached and any older entry of the key removed. Tags: <c>cache.name</c>, <c>operation</c>.
    /// </summary>
    public const string WritesRefused = "cachepatterns.writes.refused";

    /// <summary>Counter: keys whose invalidation failed and was remembered for a replay. Tags: <c>cache.name</c>.</summary>
    public const string InvalidationsDeferred = "cachepatterns.invalidations.deferred";

    /// <summary>
    /// Counter: reads the near cache (L1) answered from process memory, counted apart from <see cref="Hits"/> (which counts
    /// every hit, near or remote). Remote hits = <see cref="Hits"/> − this. Tags: <c>cache.name</c>.
    /// </summary>
    public const string NearHits = "cachepatterns.near_cache.hits";

    /// <summary>Counter: invalidations received from other processes. Tags: <c>cache.name</c>, <c>kind</c> (key, tag, all).</summary>
    public const string NearInvalidations = "cachepatterns.near_cache.invalidations";

    /// <summary>
    /// Counter: times a strategy's whole near cache was dropped. Tags: <c>cache.name</c>, <c>reason</c>
    /// (<c>disconnected</c>: invalidations may be missed from now on; <c>resynchronized</c>: the channel is back and
    /// the copies held meanwhile are dropped; <c>invalidate_all</c>: another process asked for it).
    /// </summary>
    public const string NearFlushes = "cachepatterns.near_cache.flushes";

    /// <summary>Counter: near-cache copies refused because an invalidation of the key arrived while it was read from the provider. Tags: <c>cache.name</c>.</summary>
    public const string NearFillsFenced = "cachepatterns.near_cache.fills.fenced";

    /// <summary>
    /// Histogram, seconds: from the change on the server to this process receiving its invalidation (Redis: on the
    /// server's clock). Tags: <c>cachepatterns.cache</c>. Explicit buckets from 50 µs to 5 s.
    /// </summary>
    public const string NearInvalidationDelay = "cachepatterns.near_cache.invalidation.delay";

    /// <summary>The tag naming the strategy (the entity type, e.g. <c>Product</c>), on every instrument.</summary>
    public const string CacheNameTag = "cache.name";

    /// <summary>The tag naming the cache (<c>default</c>, or the name given to <c>AddCachePatterns(name)</c>), on every instrument.</summary>
    public const string CacheTag = "cachepatterns.cache";
}
