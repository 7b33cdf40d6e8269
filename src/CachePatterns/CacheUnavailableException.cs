namespace CachePatterns;

/// <summary>
/// A <b>store</b> (the <c>IDistributedCache</c> adapter) could not reach its provider: the answer is <i>unknown</i>,
/// not <i>absent</i>. A read that throws it says nothing about whether the key exists (answer "try again", do not sign
/// the user out); a write that throws it was not confirmed: it may not have been stored, or it may still be stored
/// when the provider resumes. Nothing is deleted in its place. See docs/architecture.md, "Cache or store".
/// </summary>
public sealed class CacheUnavailableException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="CacheUnavailableException"/> class.</summary>
    public CacheUnavailableException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheUnavailableException"/> class.</summary>
    /// <param name="message">The message.</param>
    public CacheUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheUnavailableException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The last provider failure.</param>
    public CacheUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheUnavailableException"/> class.</summary>
    /// <param name="cacheName">The named cache.</param>
    /// <param name="operation">The operation: <c>get</c>, <c>set</c>, <c>remove</c> or <c>refresh</c>.</param>
    /// <param name="attempts">How many attempts reached the provider (0 when an open circuit failed the call fast).</param>
    /// <param name="innerException">The last provider failure.</param>
    public CacheUnavailableException(string cacheName, string operation, int attempts, Exception innerException)
        : base(Describe(cacheName, operation, attempts, innerException), innerException)
    {
        CacheName = cacheName;
        Operation = operation;
        Attempts = attempts;
    }

    /// <summary>Gets the named cache whose provider did not answer.</summary>
    public string? CacheName { get; }

    /// <summary>Gets the operation that failed: <c>get</c>, <c>set</c>, <c>remove</c> or <c>refresh</c>.</summary>
    public string? Operation { get; }

    /// <summary>Gets how many attempts were sent to the provider; 0 when the circuit breaker failed the call fast (nothing was sent).</summary>
    public int Attempts { get; }

    /// <summary>
    /// Gets why the last attempt failed, when known: the provider's <see cref="Providers.CacheProviderException.Reason"/>,
    /// or <see cref="Providers.CacheProviderFailureReason.Timeout"/> when it did not answer in time; <see langword="null"/>
    /// when the circuit breaker failed the call fast or the provider did not say.
    /// </summary>
    public Providers.CacheProviderFailureReason? Reason => InnerException switch
    {
        Providers.CacheProviderException provider => provider.Reason,
        TimeoutException => Providers.CacheProviderFailureReason.Timeout,
        _ => null,
    };

    private static string Describe(string cacheName, string operation, int attempts, Exception innerException)
    {
        var outcome = operation == "get"
            ? "the key's value is unknown (not absent)"
            : attempts == 0 ? "nothing was sent" : "the write was not confirmed: it may not be stored, or may still be stored when the provider resumes";
        var tried = attempts == 0 ? "the circuit breaker is open" : $"{attempts} attempt(s) failed";
        return $"The provider of cache '{cacheName}' is unavailable for '{operation}' ({tried}; last: {innerException.Message}); {outcome}.";
    }
}
