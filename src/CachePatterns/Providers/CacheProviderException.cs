namespace CachePatterns.Providers;

/// <summary>
/// Thrown by a provider's store when the server or the connection to it failed. Providers translate their client
/// library's errors into this exception, with a <see cref="Reason"/>, and remember nothing: the core's resilience layer
/// alone decides what the failure means (a miss, a skipped fill, an invalidation to replay, a tripped circuit).
/// </summary>
/// <remarks>
/// Bad input is still an <see cref="ArgumentException"/>, and the caller's cancellation an
/// <see cref="OperationCanceledException"/>; any other exception a store throws is treated as
/// <see cref="CacheProviderFailureReason.ServerError"/>.
/// </remarks>
public class CacheProviderException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="CacheProviderException"/> class.</summary>
    /// <param name="reason">Why the call failed.</param>
    /// <param name="message">What failed, naming the server or node, never a credential.</param>
    /// <param name="node">The node the call went to, for providers with several nodes; <see langword="null"/> otherwise.</param>
    /// <param name="innerException">The client library's exception, if any.</param>
    public CacheProviderException(CacheProviderFailureReason reason, string message, string? node = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        Node = node;
    }

    /// <summary>Initializes a new instance of the <see cref="CacheProviderException"/> class (<see cref="CacheProviderFailureReason.ServerError"/>).</summary>
    public CacheProviderException()
        : this(CacheProviderFailureReason.ServerError, "The cache provider failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheProviderException"/> class (<see cref="CacheProviderFailureReason.ServerError"/>).</summary>
    /// <param name="message">What failed.</param>
    public CacheProviderException(string message)
        : this(CacheProviderFailureReason.ServerError, message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheProviderException"/> class (<see cref="CacheProviderFailureReason.ServerError"/>).</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The client library's exception.</param>
    public CacheProviderException(string message, Exception? innerException)
        : this(CacheProviderFailureReason.ServerError, message, null, innerException)
    {
    }

    /// <summary>Gets why the call failed.</summary>
    public CacheProviderFailureReason Reason { get; }

    /// <summary>
    /// Gets the node the call went to (for example <c>10.0.0.5:11211</c>), for providers with several nodes. A failure
    /// with a node never opens the circuit of the whole cache: keys on the other nodes keep being served, and the
    /// provider itself fails a node it has judged down (<see cref="CacheProviderFailureReason.NodeDown"/>).
    /// </summary>
    public string? Node { get; }
}
