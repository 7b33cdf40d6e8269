namespace CachePatterns.Providers;

/// <summary>Why a provider call failed, as the provider saw it (see <see cref="CacheProviderException"/>).</summary>
/// <remarks>
/// The core decides from the reason what a failure means (docs/architecture.md, "Provider failures"):
/// <see cref="ServerFull"/> is a refused write, not an outage; every other reason counts against the circuit breaker
/// unless <see cref="CacheProviderException.Node"/> is set.
/// </remarks>
public enum CacheProviderFailureReason
{
    /// <summary>The server answered with an error that is not one of the other reasons.</summary>
    ServerError = 0,

    /// <summary>The server did not answer in time (hung, paused, overloaded, or a network black hole).</summary>
    Timeout = 1,

    /// <summary>The connection failed, broke or is being re-established.</summary>
    ConnectionFailed = 2,

    /// <summary>Nothing accepts connections at the server's address (connection refused).</summary>
    ConnectionRefused = 3,

    /// <summary>The server refused the credentials (wrong password or user, TLS certificate refused).</summary>
    Authentication = 4,

    /// <summary>
    /// The server is out of memory and refuses writes (Redis <c>OOM</c> with <c>maxmemory-policy noeviction</c>,
    /// memcached <c>SERVER_ERROR out of memory</c>). Reads and removals still work; the value is simply not cached.
    /// </summary>
    ServerFull = 5,

    /// <summary>The node that holds the key is judged down by the provider, which fails its calls at once.</summary>
    NodeDown = 6,
}
