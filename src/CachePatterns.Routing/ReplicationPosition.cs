namespace CachePatterns.Routing;

/// <summary>
/// A point in a replicated database's history, as its engine knows it: PostgreSQL a (timeline, WAL LSN) pair
/// (<see cref="PostgreSql.PgPosition"/>), MySQL/MariaDB a GTID position. Only the engine can order two positions, so the
/// router never compares them itself: it asks <see cref="CompareTo"/>, which also says when two positions belong to
/// different histories (another timeline after a failover, another server's transactions) and cannot be ordered at all.
/// </summary>
/// <remarks>Positions are immutable. A position of one engine compared with another engine's is <see cref="ReplicationPositionComparison.NotComparable"/>.</remarks>
public abstract class ReplicationPosition
{
    /// <summary>Tells whether this position (a replica's replayed position, or a newer write position) contains everything <paramref name="required"/> contains.</summary>
    /// <param name="required">The position to reach (a write position read from the primary).</param>
    /// <returns>
    /// <see cref="ReplicationPositionComparison.AtLeast"/> when this position has every change of <paramref name="required"/>;
    /// <see cref="ReplicationPositionComparison.Older"/> when it is a prefix of the same history that lacks some of them;
    /// <see cref="ReplicationPositionComparison.NotComparable"/> when the two are on different histories (never caught up).
    /// </returns>
    public abstract ReplicationPositionComparison CompareTo(ReplicationPosition required);

    /// <summary>
    /// How far this position is behind <paramref name="ahead"/> in the engine's unit of volume (PostgreSQL: bytes of WAL),
    /// for <see cref="RoutingOptions.MaxReplicaLagBytes"/>; <see langword="null"/> when the engine has no such measure or the
    /// two are not comparable.
    /// </summary>
    /// <param name="ahead">The newer position (the writer's).</param>
    /// <returns>The distance, or <see langword="null"/>.</returns>
    public virtual long? DistanceBehind(ReplicationPosition ahead) => null;

    /// <summary>
    /// The mark that covers both this position, read later, and <paramref name="earlier"/>, a mark read before it. The default
    /// keeps this one unless it is older than <paramref name="earlier"/>; when the two are not comparable (the writer moved to
    /// another history), the later one wins. An engine whose positions are sets (GTID) may return their union.
    /// </summary>
    /// <param name="earlier">The mark known before this position was read.</param>
    /// <returns>The merged mark.</returns>
    public virtual ReplicationPosition Merge(ReplicationPosition? earlier) =>
        earlier is not null && CompareTo(earlier) == ReplicationPositionComparison.Older ? earlier : this;
}
