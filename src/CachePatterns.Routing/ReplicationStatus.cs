namespace CachePatterns.Routing;

/// <summary>What one probe of an endpoint found.</summary>
/// <param name="IsPrimary">Whether the endpoint accepts writes (PostgreSQL: not in recovery).</param>
/// <param name="Position">
/// The replication position: on the primary its current write position, on a replica the position it has replayed
/// (PostgreSQL: the WAL LSN as a number). Positions of one cluster are comparable.
/// </param>
/// <param name="ReplayLag">How far behind the primary a replica's replay is in time; zero on the primary or when caught up.</param>
public readonly record struct ReplicationStatus(bool IsPrimary, ulong Position, TimeSpan ReplayLag);
