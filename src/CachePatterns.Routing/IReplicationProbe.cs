using System.Data.Common;

namespace CachePatterns.Routing;

/// <summary>
/// Asks an endpoint for its role, replication position and receive status. Each engine has one
/// (<see cref="PostgreSql.NpgsqlReplicationProbe"/>; MySQL/MariaDB: <c>@@read_only</c>, GTID positions, replica threads).
/// The router bounds every call by <see cref="RoutingOptions.ProbeTimeout"/> itself, whether or not the driver honours the token.
/// </summary>
public interface IReplicationProbe
{
    /// <summary>Probes one endpoint. Throws when the endpoint does not answer.</summary>
    /// <param name="endpoint">The endpoint's data source.</param>
    /// <param name="cancellationToken">Cancelled at the probe timeout.</param>
    /// <returns>The endpoint's role, position, lag and receive status.</returns>
    ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken);

    /// <summary>Reads the primary's current write position: every write committed before this call is at or before it.</summary>
    /// <param name="writer">The writer's data source.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The position.</returns>
    ValueTask<ReplicationPosition> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken);
}
