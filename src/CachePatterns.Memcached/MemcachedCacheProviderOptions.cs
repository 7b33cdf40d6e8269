using System.ComponentModel.DataAnnotations;

namespace CachePatterns.Memcached;

/// <summary>Options of the memcached provider and its meta-protocol client.</summary>
public sealed class MemcachedCacheProviderOptions
{
    /// <summary>
    /// Gets the servers, each <c>host:port</c> or <c>host:port:weight</c> (weight a positive integer, default 1).
    /// Keys are spread with weighted ketama, compatible with libmemcached; every client must use the same list.
    /// </summary>
    public IList<string> Servers { get; } = [];

    /// <summary>Gets or sets a prefix put before every key this provider stores (an application namespace). Default: empty.</summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how long one request may take before its connection is closed, it fails and counts towards marking
    /// the node dead. Default: 250 ms. Keep it below the cache's <c>CacheResilienceOptions.OperationTimeout</c>
    /// (500 ms by default): a call the resilience layer cancels first is a caller cancellation here, which neither
    /// closes the connection nor counts as a node failure.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets how long connecting to a server may take. Default: 250 ms (keep it below the resilience timeout too).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets the most requests in flight on one connection; more fail at once rather than queue. Default: 1,024.</summary>
    [Range(1, 1_000_000)]
    public int MaxInFlightPerConnection { get; set; } = 1024;

    /// <summary>
    /// Gets or sets memcached's item size limit in bytes: the servers' <c>-I</c> (memcached's default, 1 MiB, is this
    /// option's default). The largest value stored is this minus memcached's item overhead (59 bytes) and the key's
    /// length; a larger one throws <see cref="CacheValueTooLargeException"/> before anything is sent. If the servers
    /// use a smaller <c>-I</c>, a value they refuse also throws <see cref="CacheValueTooLargeException"/> (and the node
    /// stays in use).
    /// </summary>
    [Range(1024, int.MaxValue)]
    public int MaxItemSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether keys memcached cannot hold (over 250 bytes, whitespace or control
    /// characters) are replaced by <c>sha256:</c> and the base64url SHA-256 of the key instead of being rejected.
    /// Default: <see langword="true"/>.
    /// </summary>
    public bool HashInvalidKeys { get; set; } = true;

    /// <summary>Gets or sets how long a fill lease (memcached's vivified placeholder) lives. Default: 30 seconds.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long a write-through's registration (the write marker that takes the entry's place while the
    /// database is written) lives. A write that takes longer loses it, and its completion removes the key instead of
    /// storing. Default: 30 seconds.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets after how many consecutive failures a node is marked dead. Default: 3.</summary>
    [Range(1, int.MaxValue)]
    public int FailuresBeforeDead { get; set; } = 3;

    /// <summary>
    /// Gets or sets how often a dead node is probed; it is used again once it answers (after being emptied, see
    /// <see cref="ReturningNodes"/>). A write to a dead node's keys also probes it at once. Default: 500 ms.
    /// </summary>
    public TimeSpan DeadNodeProbeInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets what this client does with a node it marked dead when it answers again. While the node was dead, this
    /// client's invalidations of its keys failed; other clients may already be reading and refilling the node.
    /// <see cref="MemcachedReturningNodePolicy.Flush"/> (default) empties it first, so nothing it could not invalidate is
    /// read by anyone; <see cref="MemcachedReturningNodePolicy.Keep"/> uses it as it is. See docs/providers.md, "A node
    /// that returns". <see cref="RemapDeadNodes"/> always flushes.
    /// </summary>
    public MemcachedReturningNodePolicy ReturningNodes { get; set; } = MemcachedReturningNodePolicy.Flush;

    /// <summary>
    /// Gets or sets a value indicating whether a dead node's keys move to the remaining nodes (the ketama continuum is
    /// rebuilt without it, as libmemcached's auto-eject does) instead of answering as misses. When the node answers
    /// again it is emptied (<c>flush_all</c>: what it held may have been changed elsewhere meanwhile) and put back.
    /// Values stored on a node that is not their home live for at most <see cref="RemappedEntryTimeToLive"/>. Clients
    /// notice failures at different moments, so for a while they may disagree about where a key lives: see
    /// docs/providers.md before turning this on. Default: <see langword="false"/> (memcached's "failure, not failover").
    /// </summary>
    public bool RemapDeadNodes { get; set; }

    /// <summary>
    /// Gets or sets the longest time a value stored on a stand-in node (its home node is dead and
    /// <see cref="RemapDeadNodes"/> is on) is kept, so that copies left behind when the home node returns expire soon.
    /// Default: 1 minute.
    /// </summary>
    public TimeSpan RemappedEntryTimeToLive { get; set; } = TimeSpan.FromMinutes(1);
}
