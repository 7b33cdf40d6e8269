using System.ComponentModel.DataAnnotations;

namespace CachePatterns.Memory;

/// <summary>Options of the in-memory provider. Bounds apply to each strategy's store separately.</summary>
public sealed class MemoryCacheProviderOptions
{
    /// <summary>Gets or sets the most entries one store holds; the least recently used go first. Default: 100,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets which entries go first when a store is full: least recently used (default, the fastest hits)
    /// or least frequently used (a higher hit ratio on skewed workloads, slower hits). See docs/benchmarks.md.
    /// </summary>
    public MemoryEvictionPolicy EvictionPolicy { get; set; } = MemoryEvictionPolicy.LeastRecentlyUsed;

    /// <summary>
    /// Gets or sets the most bytes one store holds, <see langword="null"/> (default) for no size bound.
    /// Sizes come from the strategy's size function, else the serialized length (measured when a value is stored).
    /// </summary>
    [Range(1, long.MaxValue)]
    public long? MaxBytes { get; set; }

    /// <summary>Gets or sets the largest single value in bytes, when sizes are known. Default: 1 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the longest string key, in characters. Default: 1,024.</summary>
    [Range(1, int.MaxValue)]
    public int MaxKeyLength { get; set; } = 1024;

    /// <summary>
    /// Gets or sets a value indicating whether values are stored serialized, so every reader gets its
    /// own copy (safe for mutable values, costs a deserialization per hit). Default: <see langword="false"/>,
    /// values are shared and must be treated as immutable.
    /// </summary>
    public bool SerializeValues { get; set; }

    /// <summary>Gets or sets how often expired entries are swept out. Default: 1 minute.</summary>
    public TimeSpan ExpirationScanInterval { get; set; } = TimeSpan.FromMinutes(1);
}
