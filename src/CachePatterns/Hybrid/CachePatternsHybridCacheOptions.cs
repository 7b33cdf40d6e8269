using Microsoft.Extensions.Caching.Hybrid;

namespace CachePatterns.Hybrid;

/// <summary>
/// Options of the <see cref="HybridCache"/> registered by <c>AddHybridCache()</c> on a CachePatterns cache builder.
/// Named like Microsoft's <c>HybridCacheOptions</c> where they mean the same.
/// </summary>
public sealed class CachePatternsHybridCacheOptions
{
    /// <summary>The default of <see cref="MaximumKeyLength"/> (as Microsoft's implementation).</summary>
    public const int DefaultMaximumKeyLength = 1024;

    /// <summary>The default of <see cref="MaximumPayloadBytes"/>: 1 MiB (as Microsoft's implementation).</summary>
    public const long DefaultMaximumPayloadBytes = 1024 * 1024;

    /// <summary>
    /// Gets or sets the entry options used when a call passes none: expiration and flags. <see langword="null"/> (the
    /// default) uses the cache's defaults (<c>ConfigureDefaults</c>: 5 minutes, ±10 % jitter) and no flags.
    /// </summary>
    public HybridCacheEntryOptions? DefaultEntryOptions { get; set; }

    /// <summary>
    /// Gets or sets the longest key (in characters) that is cached. A longer key is not cached: the factory runs and
    /// a warning is logged, as in Microsoft's implementation. Default 1024.
    /// </summary>
    public int MaximumKeyLength { get; set; } = DefaultMaximumKeyLength;

    /// <summary>
    /// Gets or sets the largest serialized value (in bytes) stored by an out-of-process provider. A larger value is
    /// returned to the caller but not cached (and an older value of its key is removed). Default 1 MiB. The in-memory
    /// provider keeps objects and does not serialize them, so this limit does not apply to it.
    /// </summary>
    public long MaximumPayloadBytes { get; set; } = DefaultMaximumPayloadBytes;
}
