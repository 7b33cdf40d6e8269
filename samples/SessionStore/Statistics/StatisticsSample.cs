namespace SessionStore.Statistics;

/// <summary>What happened during one sampling interval, summed over every strategy.</summary>
public sealed record StatisticsSample(DateTimeOffset Time, long Hits, long Misses, long Loads, long Evictions, long ProviderErrors);
