namespace CachePatterns.Providers;

/// <summary>Why an entry left the cache.</summary>
public enum CacheEvictionReason
{
    /// <summary>Removed by an invalidation, a write or a delete.</summary>
    Removed = 0,

    /// <summary>Its expiration passed.</summary>
    Expired = 1,

    /// <summary>The store was full (entry count) and the entry was the least recently used.</summary>
    Capacity = 2,

    /// <summary>The store was over its size limit (bytes) and the entry was the least recently used.</summary>
    Size = 3,

    /// <summary>The entry could not be read back and was dropped.</summary>
    Corrupt = 4,
}
