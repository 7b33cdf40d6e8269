using System.Data.Common;
using System.Net.Sockets;
using CachePatterns.Routing.Internal;
using Npgsql;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>The PostgreSQL engine: Npgsql data sources, <see cref="NpgsqlReplicationProbe"/>, SQLSTATE classification.</summary>
internal sealed class PostgreSqlEngine : RoutingEngine
{
    public override string Name => "PostgreSQL";

    internal override IReplicationProbe Probe => NpgsqlReplicationProbe.Instance;

    internal override List<RoutingEndpointOptions> ResolveEndpoints(RoutingOptions options) => NpgsqlEndpoints.Resolve(options);

    internal override EndpointDataSources CreateDataSources(RoutingOptions options, RoutingEndpointOptions endpoint) =>
        NpgsqlEndpoints.CreateDataSources(options, endpoint);

    internal override bool TryClearPools(EndpointDataSources sources)
    {
        if (sources.Connections is not NpgsqlDataSource connections)
        {
            return false;
        }

        connections.Clear();
        (sources.ReadOnly as NpgsqlDataSource)?.Clear();
        (sources.Probes as NpgsqlDataSource)?.Clear();
        return true;
    }

    /// <summary>
    /// By SQLSTATE, so any ADO.NET provider for PostgreSQL classifies alike: 25006 read-only; 40001 and 40P01 on a read are
    /// recovery conflicts (a primary's serialization failures never reach a read routed to a replica); 28000/28P01 bad
    /// credentials; no SQLSTATE, class 08 or 57P (shutdown, starting), or a socket, I/O or timeout error: the connection.
    /// </summary>
    internal override RoutingFailure Classify(Exception exception) => exception switch
    {
        DbException { SqlState: "25006" } => RoutingFailure.ReadOnly,
        DbException { SqlState: "40001" or "40P01" } => RoutingFailure.RecoveryConflict,
        DbException { SqlState: "28000" or "28P01" } => RoutingFailure.Authentication,
        DbException db when db.SqlState is null || db.SqlState.StartsWith("08", StringComparison.Ordinal) || db.SqlState.StartsWith("57P", StringComparison.Ordinal) => RoutingFailure.Connection,
        SocketException or IOException or TimeoutException or ObjectDisposedException => RoutingFailure.Connection,
        _ => RoutingFailure.None,
    };
}
