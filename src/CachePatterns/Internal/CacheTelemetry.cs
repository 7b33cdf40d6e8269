using System.Diagnostics;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using CachePatterns.Providers;

namespace CachePatterns.Internal;

/// <summary>The meter's instruments, created once per meter (one per DI container when an <see cref="IMeterFactory"/> is present).</summary>
internal sealed class CacheTelemetry : IDisposable
{
    public static readonly ActivitySource ActivitySource = new(CacheDiagnostics.SourceName);

    /// <summary>The meter this instance created itself (no <see cref="IMeterFactory"/>); the factory owns the others.</summary>
    private readonly Meter? _ownedMeter;

    public CacheTelemetry(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(CacheDiagnostics.SourceName) ?? (_ownedMeter = new Meter(CacheDiagnostics.SourceName));
        Hits = meter.CreateCounter<long>(CacheDiagnostics.Hits, "{read}", "Reads served from the cache.");
        Misses = meter.CreateCounter<long>(CacheDiagnostics.Misses, "{read}", "Reads that missed the cache.");
        Loads = meter.CreateCounter<long>(CacheDiagnostics.Loads, "{load}", "Loader calls.");
        LoadDuration = meter.CreateHistogram<double>(
            CacheDiagnostics.LoadDuration, "s", "Loader call duration.", tags: null, Advice(CacheDiagnostics.LoadDurationBuckets));
        Evictions = meter.CreateCounter<long>(CacheDiagnostics.Evictions, "{entry}", "Entries that left the cache, by reason.");
        ProviderErrors = meter.CreateCounter<long>(CacheDiagnostics.ProviderErrors, "{error}", "Failed or short-circuited provider calls.");
        StaleServed = meter.CreateCounter<long>(CacheDiagnostics.StaleServed, "{read}", "Stale values served, by reason: fail_safe (the loader failed) or revalidate (refreshed in the background).");
        FillsFenced = meter.CreateCounter<long>(CacheDiagnostics.FillsFenced, "{fill}", "Fills refused because a write or invalidation revoked their lease.");
        WritesRefused = meter.CreateCounter<long>(CacheDiagnostics.WritesRefused, "{write}", "Values a full provider refused to store.");
        InvalidationsDeferred = meter.CreateCounter<long>(CacheDiagnostics.InvalidationsDeferred, "{key}", "Keys whose invalidation failed and was remembered for a replay.");
        NearHits = meter.CreateCounter<long>(CacheDiagnostics.NearHits, "{read}", "Reads answered by the near cache (process memory).");
        NearInvalidations = meter.CreateCounter<long>(CacheDiagnostics.NearInvalidations, "{message}", "Invalidations received from other processes, by kind.");
        NearFlushes = meter.CreateCounter<long>(CacheDiagnostics.NearFlushes, "{flush}", "Times a strategy's whole near cache was dropped, by reason.");
        NearFillsFenced = meter.CreateCounter<long>(CacheDiagnostics.NearFillsFenced, "{fill}", "Near-cache copies refused because an invalidation of the key arrived during the read.");
        NearInvalidationDelay = meter.CreateHistogram(
            CacheDiagnostics.NearInvalidationDelay,
            "s",
            "From a change on the server to this process receiving its invalidation.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = InvalidationDelayBuckets });
    }

    /// <summary>Bucket bounds of the invalidation delay (s): 50 µs to 5 s, dense around the 2 ms goal on a LAN.</summary>
    public static readonly double[] InvalidationDelayBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    public Counter<long> Hits { get; }

    public Counter<long> NearHits { get; }

    public Counter<long> NearInvalidations { get; }

    public Counter<long> NearFlushes { get; }

    public Counter<long> NearFillsFenced { get; }

    public Histogram<double> NearInvalidationDelay { get; }

    public Counter<long> Misses { get; }

    public Counter<long> Loads { get; }

    public Histogram<double> LoadDuration { get; }

    public Counter<long> Evictions { get; }

    public Counter<long> ProviderErrors { get; }

    public Counter<long> StaleServed { get; }

    public Counter<long> FillsFenced { get; }

    public Counter<long> WritesRefused { get; }

    public Counter<long> InvalidationsDeferred { get; }

    public void Dispose() => _ownedMeter?.Dispose();

    /// <summary>
    /// Bucket advice for a duration histogram: without it OpenTelemetry's default boundaries (0, 5, 10, 25, ... 10000)
    /// put every sample in seconds below 5 s into one or two buckets.
    /// </summary>
    public static InstrumentAdvice<double> Advice(IReadOnlyList<double> bucketBoundaries) =>
        new() { HistogramBucketBoundaries = bucketBoundaries };

    public static string ReasonName(CacheEvictionReason reason) => reason switch
    {
        CacheEvictionReason.Removed => "removed",
        CacheEvictionReason.Expired => "expired",
        CacheEvictionReason.Capacity => "capacity",
        CacheEvictionReason.Size => "size",
        CacheEvictionReason.Corrupt => "corrupt",
        _ => "other",
    };
}
