namespace CachePatterns.Routing;

/// <summary>What the router currently knows about one endpoint (for health pages and tests).</summary>
/// <param name="Name">The endpoint's name.</param>
/// <param name="IsWriter">Whether writes go to it now.</param>
/// <param name="IsReadable">Whether eventual reads may go to it now (a healthy replica within the lag bound).</param>
/// <param name="IsEjected">Whether it failed <see cref="RoutingOptions.FailuresBeforeEjection"/> probes in a row.</param>
/// <param name="LastStatus">The last successful probe's answer, if any.</param>
/// <param name="OutstandingConnections">Connections opened on it through the router and not closed yet.</param>
public sealed record RoutingEndpointState(
    string Name,
    bool IsWriter,
    bool IsReadable,
    bool IsEjected,
    ReplicationStatus? LastStatus,
    int OutstandingConnections);
