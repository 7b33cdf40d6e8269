using System.Data.Common;
using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

/// <summary>
/// The database engine behind a router: how endpoints are named from the options, how their data sources are built and
/// cleared, how a server is probed (<see cref="IReplicationProbe"/>, positions that only the engine orders), and what its
/// errors mean. <see cref="PostgreSql"/> is the default; choose one with <see cref="RoutingOptions.Engine"/>.
/// </summary>
/// <remarks>
/// The router itself is engine-neutral: it compares positions only through <see cref="ReplicationPosition.CompareTo"/>,
/// judges lag against the writer's probed positions, and classifies failures only through <see cref="Classify"/>.
/// Engines live in this assembly (folders <c>PostgreSql/</c>, <c>MySql/</c>); another ADO.NET provider can still be
/// routed with <see cref="RoutingOptions.DataSourceFactory"/> and <see cref="RoutingOptions.Probe"/>.
/// </remarks>
public abstract partial class RoutingEngine
{
    private protected RoutingEngine()
    {
    }

    /// <summary>Gets the PostgreSQL engine (Npgsql): positions are (timeline, LSN), replicas report their WAL receiver.</summary>
    public static RoutingEngine PostgreSql { get; } = new PostgreSql.PostgreSqlEngine();

    /// <summary>Gets the engine's name, for messages (<c>PostgreSQL</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Gets the engine's probe, used unless <see cref="RoutingOptions.Probe"/> is set.</summary>
    internal abstract IReplicationProbe Probe { get; }

    /// <summary>
    /// Every endpoint of the options with its name (a host list in <see cref="RoutingOptions.ConnectionString"/> expanded to one
    /// endpoint per host). Throws <see cref="ArgumentException"/> naming the bad setting, never a secret.
    /// </summary>
    internal abstract List<RoutingEndpointOptions> ResolveEndpoints(RoutingOptions options);

    /// <summary>
    /// The endpoint's data sources when no <see cref="RoutingOptions.DataSourceFactory"/> is set: the application's read-write
    /// pool, a pool whose sessions are read-only (reads routed to the writer run there, so a write sent through a read is
    /// refused by the server everywhere), and the probes' own small pool.
    /// </summary>
    internal abstract EndpointDataSources CreateDataSources(RoutingOptions options, RoutingEndpointOptions endpoint);

    /// <summary>Drops the pooled connections of <paramref name="sources"/> in place; returns <see langword="false"/> when the engine cannot, and the router replaces the data sources instead.</summary>
    internal abstract bool TryClearPools(EndpointDataSources sources);

    /// <summary>Gets a value indicating whether <see cref="WaitForPositionAsync"/> can wait on a replica (default: it cannot).</summary>
    internal virtual bool CanWaitForPosition => false;

    /// <summary>
    /// Waits on an open connection to a replica until it has applied <paramref name="position"/>, at most
    /// <paramref name="timeout"/>; returns whether it has (then reads on this connection see it).
    /// </summary>
    internal virtual Task<bool> WaitForPositionAsync(DbConnection replica, ReplicationPosition position, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>What a failure of a statement or an open means for routing (a connection failure, a read-only server, a recovery conflict, bad credentials), or <see cref="RoutingFailure.None"/> for the statement's own error.</summary>
    internal abstract RoutingFailure Classify(Exception exception);
}
