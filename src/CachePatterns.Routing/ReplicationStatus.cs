namespace CachePatterns.Routing;

/// <summary>What one probe of an endpoint found. The engine's probe fills it; the router judges it (docs/routing.md).</summary>
/// <param name="IsPrimary">Whether the endpoint accepts writes (PostgreSQL: not in recovery; MySQL: not read-only).</param>
/// <param name="Position">
/// On the primary its current write position; on a replica the position it has replayed (applied), so a read there sees
/// everything up to it. Compared only by its engine (<see cref="ReplicationPosition.CompareTo"/>).
/// </param>
/// <param name="ReplayLag">
/// The engine's own estimate of how far a replica's replay is behind in time (zero on the primary or when it has applied
/// all it received). Trusted only while <paramref name="IsReceiving"/>: a replica cut off from its primary has applied all
/// it received and reports zero. The router also measures lag itself against the writer's probed positions.
/// </param>
/// <param name="IsReceiving">
/// Whether a replica's link to its upstream is up (PostgreSQL: a WAL receiver streaming; MySQL: the replication I/O and SQL
/// threads running); always <see langword="true"/> on the primary.
/// </param>
public readonly record struct ReplicationStatus(bool IsPrimary, ReplicationPosition Position, TimeSpan ReplayLag, bool IsReceiving);
