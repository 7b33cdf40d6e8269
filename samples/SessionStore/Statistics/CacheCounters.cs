namespace SessionStore.Statistics;

/// <summary>Totals of one strategy (<c>cache.name</c>: <c>Product</c>, or <c>distributed</c> for the sessions).</summary>
public sealed record CacheCounters(string Name, long Hits, long Misses, long Loads, long Evictions, long ProviderErrors)
{
    /// <summary>Hits over lookups, or null before the first lookup.</summary>
    public double? HitRatio => Hits + Misses == 0 ? null : (double)Hits / (Hits + Misses);
}
