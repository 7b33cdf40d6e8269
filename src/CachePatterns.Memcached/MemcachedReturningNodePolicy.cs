namespace CachePatterns.Memcached;

/// <summary>What a client does with a memcached node it marked dead when the node answers again (decided per deployment).</summary>
public enum MemcachedReturningNodePolicy
{
    /// <summary>
    /// Empty the node with <c>flush_all</c> before using it again. Whatever this client could not invalidate while the
    /// node was unreachable is gone for every client, and every fill that began before is fenced off. Costs a cold node
    /// (a restarted node is cold anyway) and empties it for every application sharing it: use it when the memcached
    /// servers are this application's own.
    /// </summary>
    Flush = 0,

    /// <summary>
    /// Use the node as it is. For servers shared with other applications, where <c>flush_all</c> is not acceptable: the
    /// core replays this client's lost invalidations when the node is restored, and until then other clients may read
    /// values this client could not invalidate (docs/providers.md gives the window).
    /// </summary>
    Keep = 1,
}
