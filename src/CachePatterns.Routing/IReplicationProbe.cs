using System.Data.Common;

namespace CachePatterns.Routing;

/// <summary>
/// Asks an endpoint for its role and replication position. <see cref="PostgreSql.NpgsqlReplicationProbe"/> is the PostgreSQL
/// implementation; another database (MySQL: <c>@@read_only</c>, GTID sets) implements this interface.
/// </summary>
public interface IReplicationProbe
{
    /// <summary>Probes one endpoint. Throws when the endpoint does not answer.</summary>
    /// <param name="endpoint">The endpoint's data source.</param>
    /// <param name="cancellationToken">Cancelled at the probe timeout.</param>
    /// <returns>The endpoint's role, position and lag.</returns>
    ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken);

    /// <summary>Reads the primary's current write position: every write committed before this call is at or before it.</summary>
    /// <param name="writer">The writer's data source.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The position.</returns>
    ValueTask<ulong> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken);
}
