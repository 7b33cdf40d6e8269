using CachePatterns.Providers;

namespace CachePatterns.Memcached;

/// <summary>
/// A memcached server could not answer a request: connection refused or lost, timeout, an error reply, too many
/// requests in flight, or the node is marked dead. A <see cref="CacheProviderException"/>: its
/// <see cref="CacheProviderException.Reason"/> says which, and <see cref="CacheProviderException.Node"/> names the node.
/// </summary>
public sealed class MemcachedException : CacheProviderException
{
    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    public MemcachedException()
        : base(CacheProviderFailureReason.ServerError, "Memcached failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public MemcachedException(string message)
        : base(CacheProviderFailureReason.ServerError, message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public MemcachedException(string message, Exception innerException)
        : base(CacheProviderFailureReason.ServerError, message, null, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    /// <param name="reason">Why the request failed.</param>
    /// <param name="message">What went wrong, naming the node.</param>
    /// <param name="node">The node (<c>host:port</c>).</param>
    /// <param name="innerException">The cause, if any.</param>
    public MemcachedException(CacheProviderFailureReason reason, string message, string node, Exception? innerException = null)
        : base(reason, message, node, innerException)
    {
    }

    /// <summary>
    /// Gets the server's error line when it answered this request with <c>SERVER_ERROR</c> and the connection stayed in
    /// step: only this request failed, the node is healthy. <see langword="null"/> for every other failure.
    /// </summary>
    internal string? ErrorReply { get; init; }
}
