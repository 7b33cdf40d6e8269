namespace CachePatterns.Routing;

/// <summary>How a position relates to a position it must reach (<see cref="ReplicationPosition.CompareTo"/>).</summary>
public enum ReplicationPositionComparison
{
    /// <summary>On the same history, and missing some changes of the required position.</summary>
    Older = 0,

    /// <summary>Contains every change of the required position (equal or newer).</summary>
    AtLeast = 1,

    /// <summary>On another history (PostgreSQL: another timeline; GTID: another server's transactions): never counts as caught up.</summary>
    NotComparable = 2,
}
