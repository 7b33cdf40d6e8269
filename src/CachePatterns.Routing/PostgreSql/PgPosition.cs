using System.Globalization;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>
/// A PostgreSQL position: the timeline and the WAL LSN on it. Two positions on different timelines are not comparable:
/// after a failover, the old timeline may hold writes the new one never had (and a higher LSN), so a replica still on the
/// old timeline is never taken as caught up with the new primary.
/// </summary>
/// <param name="timeline">The timeline id (1 for a cluster that never failed over; each promotion starts a new one).</param>
/// <param name="lsn">The WAL location as a number (<c>pg_wal_lsn_diff(lsn, '0/0')</c>).</param>
public sealed class PgPosition(uint timeline, ulong lsn) : ReplicationPosition, IEquatable<PgPosition>
{
    /// <summary>Gets the timeline id.</summary>
    public uint Timeline { get; } = timeline;

    /// <summary>Gets the WAL location as a number.</summary>
    public ulong Lsn { get; } = lsn;

    /// <inheritdoc/>
    public override ReplicationPositionComparison CompareTo(ReplicationPosition required) =>
        required is PgPosition other && other.Timeline == Timeline
            ? (Lsn >= other.Lsn ? ReplicationPositionComparison.AtLeast : ReplicationPositionComparison.Older)
            : ReplicationPositionComparison.NotComparable;

    /// <inheritdoc/>
    public override long? DistanceBehind(ReplicationPosition ahead) =>
        ahead is PgPosition other && other.Timeline == Timeline
            ? (long)Math.Min(other.Lsn > Lsn ? other.Lsn - Lsn : 0, long.MaxValue)
            : null;

    /// <inheritdoc/>
    public bool Equals(PgPosition? other) => other is not null && other.Timeline == Timeline && other.Lsn == Lsn;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PgPosition);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Timeline, Lsn);

    /// <summary>The position as PostgreSQL writes it, with its timeline: <c>2/0/3000060</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Timeline}/{Lsn >> 32:X}/{Lsn & 0xFFFFFFFF:X}");
}
