namespace CachePatterns.Memory;

/// <summary>Which entries the in-memory provider evicts when a store is full.</summary>
public enum MemoryEvictionPolicy
{
    /// <summary>
    /// Least recently used (BitFaster <c>ConcurrentLru</c>): a hit is a few nanoseconds. The default.
    /// </summary>
    LeastRecentlyUsed = 0,

    /// <summary>
    /// Least frequently used with a recency window (BitFaster <c>ConcurrentLfu</c>, W-TinyLFU): about 2 points more
    /// hits on Zipf-like workloads, for a slower hit (every read is recorded; the bookkeeping runs on the calling thread).
    /// </summary>
    LeastFrequentlyUsed = 1,
}
