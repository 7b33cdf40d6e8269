using System.Globalization;
using System.Text;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// A MySQL GTID set (<c>@@gtid_executed</c>): for each source (server UUID, and tag since MySQL 8.3) the intervals of
/// transaction numbers, e.g. <c>3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18,…</c>. Immutable; intervals merged.
/// </summary>
/// <remarks>
/// A replica includes a write when the write's set is a subset of the replica's executed set (what
/// <c>WAIT_FOR_EXECUTED_GTID_SET</c> waits for); a multi-threaded replica may have gaps, so a set that is not a superset is
/// "older" (not applied yet). A set read from a primary also carries that primary's <c>@@server_uuid</c>: a replica that has
/// transactions beyond the required set from another source than that primary kept transactions a failed primary wrote
/// after the promoted replica last received from it — they exist on no other node — and is not comparable.
/// </remarks>
public sealed class MySqlGtidSet : ReplicationPosition, IEquatable<MySqlGtidSet>
{
    private readonly SortedDictionary<string, List<(ulong Start, ulong End)>> _sources;

    private MySqlGtidSet(SortedDictionary<string, List<(ulong, ulong)>> sources, string? primaryUuid)
    {
        _sources = sources;
        PrimaryUuid = primaryUuid;
    }

    /// <summary>Gets the empty position (no transaction yet).</summary>
    public static MySqlGtidSet Empty { get; } = new(new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal), null);

    /// <summary>Gets the <c>@@server_uuid</c> of the primary this set was read from (lower case); <see langword="null"/> for a replica's.</summary>
    public string? PrimaryUuid { get; }

    /// <summary>Parses a GTID set as the server prints it (whitespace and newlines allowed); throws <see cref="FormatException"/> naming the bad text.</summary>
    /// <param name="text">The set; empty for none.</param>
    /// <param name="primaryUuid">The <c>@@server_uuid</c> of the primary it was read from, or <see langword="null"/> for a replica's.</param>
    public static MySqlGtidSet Parse(string? text, string? primaryUuid = null)
    {
        var sources = new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal);
        primaryUuid = primaryUuid?.ToLowerInvariant();
        if (string.IsNullOrWhiteSpace(text))
        {
            return new MySqlGtidSet(sources, primaryUuid);
        }

        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        foreach (var part in compact.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = part.Split(':');
            if (fields.Length < 2 || !Guid.TryParse(fields[0], out var uuid))
            {
                throw new FormatException($"'{part}' in the MySQL GTID set '{text}' does not start with a server UUID and an interval.");
            }

            var key = uuid.ToString("D");
            for (var i = 1; i < fields.Length; i++)
            {
                var field = fields[i];
                if (field.Length > 0 && !char.IsAsciiDigit(field[0]))
                {
                    key = uuid.ToString("D") + ":" + field.ToLowerInvariant();
                    continue;
                }

                var dash = field.IndexOf('-', StringComparison.Ordinal);
                var startText = dash < 0 ? field : field[..dash];
                var endText = dash < 0 ? field : field[(dash + 1)..];
                if (!ulong.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                    || !ulong.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out var end)
                    || start == 0 || end < start)
                {
                    throw new FormatException($"'{field}' in the MySQL GTID set '{text}' is not an interval n or n-m (1 <= n <= m).");
                }

                if (!sources.TryGetValue(key, out var intervals))
                {
                    sources[key] = intervals = [];
                }

                intervals.Add((start, end));
            }
        }

        foreach (var key in sources.Keys.ToList())
        {
            sources[key] = Normalize(sources[key]);
        }

        return new MySqlGtidSet(sources, primaryUuid);
    }

    /// <summary>Whether this set (a replica's, or a newer primary set) contains every transaction of <paramref name="required"/>.</summary>
    /// <inheritdoc/>
    public override ReplicationPositionComparison CompareTo(ReplicationPosition required) =>
        required is MySqlGtidSet other ? CompareTo(other) : ReplicationPositionComparison.NotComparable;

    /// <summary>Whether this position includes every transaction of <paramref name="required"/> (see the remarks of the type).</summary>
    /// <param name="required">The position to reach.</param>
    /// <returns>How this position relates to <paramref name="required"/>.</returns>
    public ReplicationPositionComparison CompareTo(MySqlGtidSet required)
    {
        if (required.PrimaryUuid is { } primary)
        {
            foreach (var (source, have) in _sources)
            {
                if (!source.StartsWith(primary, StringComparison.Ordinal) && !Covered(have, required._sources.GetValueOrDefault(source)))
                {
                    return ReplicationPositionComparison.NotComparable;
                }
            }
        }

        foreach (var (source, needed) in required._sources)
        {
            if (!_sources.TryGetValue(source, out var have) || !Covered(needed, have))
            {
                return ReplicationPositionComparison.Older;
            }
        }

        return ReplicationPositionComparison.AtLeast;
    }

    /// <summary>The union of both sets.</summary>
    internal MySqlGtidSet Merge(MySqlGtidSet other)
    {
        var merged = new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal);
        foreach (var set in new[] { this, other })
        {
            foreach (var (source, intervals) in set._sources)
            {
                if (!merged.TryGetValue(source, out var list))
                {
                    merged[source] = list = [];
                }

                list.AddRange(intervals);
            }
        }

        foreach (var key in merged.Keys.ToList())
        {
            merged[key] = Normalize(merged[key]);
        }

        return new MySqlGtidSet(merged, PrimaryUuid ?? other.PrimaryUuid);
    }

    /// <inheritdoc/>
    public bool Equals(MySqlGtidSet? other) => other is not null && other.PrimaryUuid == PrimaryUuid && ToString() == other.ToString();

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as MySqlGtidSet);

    /// <inheritdoc/>
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    /// <summary>The set as the server prints it (usable in <c>WAIT_FOR_EXECUTED_GTID_SET</c>).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (source, intervals) in _sources)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(source);
            foreach (var (start, end) in intervals)
            {
                text.Append(':').Append(start.ToString(CultureInfo.InvariantCulture));
                if (end != start)
                {
                    text.Append('-').Append(end.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Whether every interval of <paramref name="inner"/> lies in one of <paramref name="outer"/> (both normalized).</summary>
    private static bool Covered(List<(ulong Start, ulong End)> inner, List<(ulong Start, ulong End)>? outer) =>
        inner.TrueForAll(i => outer?.Exists(o => o.Start <= i.Start && i.End <= o.End) == true);

    /// <summary>Sorted, with overlapping and adjacent intervals joined.</summary>
    private static List<(ulong Start, ulong End)> Normalize(List<(ulong Start, ulong End)> intervals)
    {
        intervals.Sort();
        var result = new List<(ulong Start, ulong End)>();
        foreach (var (start, end) in intervals)
        {
            if (result.Count > 0 && start <= result[^1].End + 1)
            {
                result[^1] = (result[^1].Start, Math.Max(end, result[^1].End));
            }
            else
            {
                result.Add((start, end));
            }
        }

        return result;
    }
}
