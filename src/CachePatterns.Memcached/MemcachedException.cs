namespace CachePatterns.Memcached;

/// <summary>
/// A memcached server could not answer a request: connection refused or lost, timeout, protocol error,
/// too many requests in flight, or the node is marked dead.
/// </summary>
public sealed class MemcachedException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    public MemcachedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public MemcachedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MemcachedException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public MemcachedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
