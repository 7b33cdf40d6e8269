namespace CachePatterns.Routing.Internal;

/// <summary>
/// The writer's probed positions over the recent past, each with when the probe that first saw it answered: the router's
/// own lag measure, which does not depend on a replica's report of itself. A replica that lacks a position the writer had
/// at time T is at least <c>now - T</c> behind — whether or not it still receives WAL, and whatever it says about its lag.
/// </summary>
/// <remarks>Written under the router's apply lock; read by topology builds under the same lock.</remarks>
internal sealed class WriterHistory
{
    private const int MaxEntries = 4096;
    private readonly List<(long Sent, ReplicationPosition Position)> _entries = [];

    /// <summary>Gets the writer's latest probed position, or <see langword="null"/> before the first.</summary>
    public ReplicationPosition? Latest => _entries.Count == 0 ? null : _entries[^1].Position;

    /// <summary>Records the writer's position seen by a probe that answered at <paramref name="seen"/>.</summary>
    public void Record(long seen, ReplicationPosition position)
    {
        if (_entries.Count > 0)
        {
            var latest = _entries[^1].Position;
            switch (position.CompareTo(latest))
            {
                case ReplicationPositionComparison.AtLeast when latest.CompareTo(position) == ReplicationPositionComparison.AtLeast:
                    return; // the same position: the first probe that saw it dates it
                case ReplicationPositionComparison.Older:
                    return; // an older answer that arrived late
                case ReplicationPositionComparison.NotComparable:
                    _entries.Clear(); // another history (a promotion): the old one says nothing about the new
                    break;
            }
        }

        if (_entries.Count == MaxEntries)
        {
            _entries.RemoveAt(0);
        }

        _entries.Add((seen, position));
    }

    /// <summary>Forgets every position (the writer moved: another server's history).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>Drops positions first seen before <paramref name="before"/>, keeping the latest one.</summary>
    public void Trim(long before)
    {
        var drop = 0;
        while (drop < _entries.Count - 1 && _entries[drop + 1].Sent < before)
        {
            drop++;
        }

        _entries.RemoveRange(0, drop);
    }

    /// <summary>
    /// When the writer first had a position that <paramref name="replica"/> lacks (when that probe answered), or
    /// <see langword="null"/> when the replica has every position recorded. When the replica lacks even the oldest one kept,
    /// the oldest one's time: the replica is at least that far behind.
    /// </summary>
    public long? BehindSince(ReplicationPosition replica)
    {
        foreach (var (sent, position) in _entries)
        {
            if (replica.CompareTo(position) != ReplicationPositionComparison.AtLeast)
            {
                return sent;
            }
        }

        return null;
    }
}
