using System.Globalization;
using System.Text;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// A MariaDB GTID position: for each replication domain the last transaction, <c>domain-server_id-sequence</c>
/// (<c>@@gtid_binlog_pos</c>, <c>@@gtid_slave_pos</c>; e.g. <c>0-1-6,1-3-22</c>), and for a position read from a primary
/// that primary's <c>@@server_id</c>. Immutable; domains sorted.
/// </summary>
/// <remarks>
/// Sequence numbers grow within a domain across a failover (a promoted replica continues the sequence under its own
/// server id), so "at least as new" is decided per domain by the sequence number, as <c>MASTER_GTID_WAIT</c> decides it —
/// with two exceptions that mean the histories diverged (not comparable): the same sequence number under two server ids,
/// and a replica past the required position with transactions of a server other than the one that wrote the required
/// position or its primary at the time (a replica that kept transactions the failed primary wrote after the promoted
/// replica last received from it: they exist on no other node).
/// </remarks>
public sealed class MariaDbGtidPosition : ReplicationPosition, IEquatable<MariaDbGtidPosition>
{
    private readonly MariaDbGtid[] _gtids;

    private MariaDbGtidPosition(MariaDbGtid[] gtids, uint? primaryServerId)
    {
        _gtids = gtids;
        PrimaryServerId = primaryServerId;
    }

    /// <summary>Gets the empty position (no transaction yet).</summary>
    public static MariaDbGtidPosition Empty { get; } = new([], null);

    /// <summary>Gets the last transaction of each domain, by domain.</summary>
    internal IReadOnlyList<MariaDbGtid> Gtids => _gtids;

    /// <summary>Gets the server id of the primary this position was read from; <see langword="null"/> for a replica's position.</summary>
    public uint? PrimaryServerId { get; }

    /// <summary>Parses a GTID list as the server prints it; throws <see cref="FormatException"/> naming the bad text.</summary>
    /// <param name="text">The list, e.g. <c>0-1-6,1-3-22</c>; empty for none.</param>
    /// <param name="primaryServerId">The <c>@@server_id</c> of the primary it was read from, or <see langword="null"/> for a replica's.</param>
    public static MariaDbGtidPosition Parse(string? text, uint? primaryServerId = null)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return primaryServerId is null ? Empty : new([], primaryServerId);
        }

        var gtids = new List<MariaDbGtid>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = part.Split('-');
            if (fields.Length != 3
                || !uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
                || !uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
                || !ulong.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                throw new FormatException($"'{part}' in the MariaDB GTID position '{text}' is not domain-server_id-sequence.");
            }

            if (gtids.Exists(g => g.Domain == domain))
            {
                throw new FormatException($"The MariaDB GTID position '{text}' names domain {domain} twice.");
            }

            gtids.Add(new MariaDbGtid(domain, server, sequence));
        }

        gtids.Sort((a, b) => a.Domain.CompareTo(b.Domain));
        return new MariaDbGtidPosition([.. gtids], primaryServerId);
    }

    /// <summary>Whether this position (a replica's, or a newer primary position) includes every transaction of <paramref name="required"/>.</summary>
    /// <inheritdoc/>
    public override ReplicationPositionComparison CompareTo(ReplicationPosition required) =>
        required is MariaDbGtidPosition other ? CompareTo(other) : ReplicationPositionComparison.NotComparable;

    /// <summary>Whether this position includes every transaction of <paramref name="required"/> (see the remarks of the type).</summary>
    /// <param name="required">The position to reach.</param>
    /// <returns>How this position relates to <paramref name="required"/>.</returns>
    public ReplicationPositionComparison CompareTo(MariaDbGtidPosition required)
    {
        var result = ReplicationPositionComparison.AtLeast;
        foreach (var need in required._gtids)
        {
            var have = Find(need.Domain);
            if (have is null || have.Value.Sequence < need.Sequence)
            {
                result = ReplicationPositionComparison.Older;
            }
            else if (have.Value.Sequence == need.Sequence
                ? have.Value.ServerId != need.ServerId
                : required.PrimaryServerId is { } primary && have.Value.ServerId != primary)
            {
                return ReplicationPositionComparison.NotComparable;
            }
        }

        return result;
    }

    /// <summary>The newer transaction of each domain of both positions (the mark after both).</summary>
    internal MariaDbGtidPosition Merge(MariaDbGtidPosition other)
    {
        var merged = new List<MariaDbGtid>(_gtids);
        foreach (var gtid in other._gtids)
        {
            var index = merged.FindIndex(g => g.Domain == gtid.Domain);
            if (index < 0)
            {
                merged.Add(gtid);
            }
            else if (gtid.Sequence > merged[index].Sequence)
            {
                merged[index] = gtid;
            }
        }

        merged.Sort((a, b) => a.Domain.CompareTo(b.Domain));
        return new MariaDbGtidPosition([.. merged], PrimaryServerId ?? other.PrimaryServerId);
    }

    /// <inheritdoc/>
    public bool Equals(MariaDbGtidPosition? other) => other is not null && other.PrimaryServerId == PrimaryServerId && _gtids.AsSpan().SequenceEqual(other._gtids);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as MariaDbGtidPosition);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var gtid in _gtids)
        {
            hash.Add(gtid);
        }

        return hash.ToHashCode();
    }

    /// <summary>The position as the server prints it (usable in <c>MASTER_GTID_WAIT</c>).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var gtid in _gtids)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(CultureInfo.InvariantCulture, $"{gtid.Domain}-{gtid.ServerId}-{gtid.Sequence}");
        }

        return text.ToString();
    }

    private MariaDbGtid? Find(uint domain)
    {
        foreach (var gtid in _gtids)
        {
            if (gtid.Domain == domain)
            {
                return gtid;
            }
        }

        return null;
    }
}

/// <summary>One MariaDB global transaction id.</summary>
/// <param name="Domain">The replication domain.</param>
/// <param name="ServerId">The server that wrote it first.</param>
/// <param name="Sequence">The sequence number within the domain.</param>
internal readonly record struct MariaDbGtid(uint Domain, uint ServerId, ulong Sequence);
