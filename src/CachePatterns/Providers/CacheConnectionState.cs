namespace CachePatterns.Providers;

/// <summary>What happened to a provider's connection (see <see cref="ICacheProvider.ConnectionChanged"/>).</summary>
public enum CacheConnectionState
{
    /// <summary>
    /// The server (or one node) cannot be relied on to answer: the connection broke, or it stopped answering while
    /// open (a hung or paused server, a network black hole). Invalidations sent meanwhile may be lost.
    /// </summary>
    Lost = 0,

    /// <summary>
    /// The server (or one node) answers again. It may be a restarted server that lost or reloaded its data, so anything
    /// a client kept on the server's behalf (a near cache, replayed invalidations) must be made good now.
    /// </summary>
    Restored = 1,
}
