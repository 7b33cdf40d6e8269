using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>What a provider failure means to the core.</summary>
internal enum ProviderFailureKind
{
    /// <summary>Not a provider failure: bad input (<see cref="ArgumentException"/>), thrown to the caller as it is.</summary>
    BadInput,

    /// <summary>The server is full and refused a write (<see cref="CacheProviderFailureReason.ServerFull"/>): it answered, reads still work.</summary>
    Full,

    /// <summary>One node failed (<see cref="CacheProviderException.Node"/> set): the whole cache's circuit is not touched.</summary>
    NodeOutage,

    /// <summary>The provider did not answer or failed: counts against the circuit breaker.</summary>
    Outage,
}

/// <summary>
/// The one place that decides what an exception from a provider call means (docs/architecture.md, "Provider failures").
/// The caller's own cancellation is not seen here: the pipeline rethrows it before asking.
/// </summary>
/// <param name="Kind">What the failure means.</param>
/// <param name="Reason">Why the call failed, as the provider or the pipeline's timeout saw it.</param>
/// <param name="Node">The node, for a node-scoped failure.</param>
internal readonly record struct ProviderFailure(ProviderFailureKind Kind, CacheProviderFailureReason Reason, string? Node)
{
    /// <summary>Classifies an exception that escaped a provider call (the caller did not cancel it).</summary>
    public static ProviderFailure Classify(Exception exception) => exception switch
    {
        ArgumentException => new(ProviderFailureKind.BadInput, CacheProviderFailureReason.ServerError, null),
        CacheProviderException { Reason: CacheProviderFailureReason.ServerFull } full => new(ProviderFailureKind.Full, full.Reason, full.Node),
        CacheProviderException { Node: { } node } failure => new(ProviderFailureKind.NodeOutage, failure.Reason, node),
        CacheProviderException failure => new(ProviderFailureKind.Outage, failure.Reason, null),
        CacheCircuitOpenException => new(ProviderFailureKind.Outage, CacheProviderFailureReason.ConnectionFailed, null),
        TimeoutException or OperationCanceledException => new(ProviderFailureKind.Outage, CacheProviderFailureReason.Timeout, null),
        _ => new(ProviderFailureKind.Outage, CacheProviderFailureReason.ServerError, null),
    };

    /// <summary>Gets a value indicating whether this is a provider failure (anything but bad input).</summary>
    public bool IsProviderFailure => Kind != ProviderFailureKind.BadInput;

    /// <summary>The words the health check and the logs use for a reason.</summary>
    public static string Describe(CacheProviderFailureReason reason) => reason switch
    {
        CacheProviderFailureReason.Timeout => "timeout: the server does not answer",
        CacheProviderFailureReason.ConnectionFailed => "connection failed",
        CacheProviderFailureReason.ConnectionRefused => "connection refused: nothing listens at the server's address",
        CacheProviderFailureReason.Authentication => "authentication failed: check the user name and password",
        CacheProviderFailureReason.ServerFull => "the server is full (out of memory) and refuses writes",
        CacheProviderFailureReason.NodeDown => "a node is down",
        _ => "server error",
    };
}
