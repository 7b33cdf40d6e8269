namespace CatalogSample;

/// <summary>The CachePatterns counters of one strategy at a point in time.</summary>
public sealed record CacheMetricsSnapshot(
    long Hits,
    long Misses,
    long Loads,
    long FailedLoads,
    double LoadSeconds,
    IReadOnlyDictionary<string, long> EvictionsByReason,
    long FillsFenced,
    long StaleServed,
    long ProviderErrors)
{
    public long Lookups => Hits + Misses;

    public double HitRatio => Lookups == 0 ? 0 : (double)Hits / Lookups;

    public TimeSpan MeanLoadTime => Loads == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(LoadSeconds / Loads);

    public long Evictions(string reason) => EvictionsByReason.TryGetValue(reason, out var count) ? count : 0;
}
