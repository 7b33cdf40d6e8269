namespace CachePatterns;

/// <summary>How a strategy keeps the cache in step with database writes.</summary>
public enum CacheStrategyKind
{
    /// <summary>
    /// Cache-aside (lazy loading): only requested data is cached; a write goes to the database
    /// and then invalidates the key, so the next read loads the new value.
    /// </summary>
    CacheAside = 0,

    /// <summary>
    /// Write-through: a write goes to the database and then stores the new value in the cache,
    /// so reads after a write hit; misses still load lazily.
    /// </summary>
    WriteThrough = 1,
}
