namespace CachePatterns.Routing;

/// <summary>
/// The router could not run the work on a healthy endpoint: no writer or reader is available, or the connection failed
/// (for example during a failover). <see cref="RetrySafety"/> tells whether the caller may retry.
/// </summary>
public sealed class RoutingException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RoutingException"/> class.</summary>
    public RoutingException()
        : this("The router could not run the work.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RoutingException"/> class.</summary>
    /// <param name="message">The message.</param>
    public RoutingException(string message)
        : this(message, RetrySafety.Safe, endpoint: null, innerException: null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RoutingException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The provider's exception.</param>
    public RoutingException(string message, Exception? innerException)
        : this(message, RetrySafety.Safe, endpoint: null, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RoutingException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="retrySafety">Whether the work may be retried.</param>
    /// <param name="endpoint">The endpoint's name (host and port, never credentials), when one was chosen.</param>
    /// <param name="innerException">The provider's exception.</param>
    public RoutingException(string message, RetrySafety retrySafety, string? endpoint, Exception? innerException)
        : base(message, innerException)
    {
        RetrySafety = retrySafety;
        Endpoint = endpoint;
    }

    /// <summary>Gets whether the work may be run again.</summary>
    public RetrySafety RetrySafety { get; }

    /// <summary>Gets a value indicating whether running the work again cannot apply a write twice.</summary>
    public bool IsSafeToRetry => RetrySafety == RetrySafety.Safe;

    /// <summary>Gets the endpoint the work was routed to, if any.</summary>
    public string? Endpoint { get; }
}
