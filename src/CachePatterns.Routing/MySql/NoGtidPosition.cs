namespace CachePatterns.Routing.MySql;

/// <summary>
/// The position of a server that has no usable GTIDs (binary log or GTID mode off, or Aurora MySQL, whose readers share
/// the writer's storage instead of replaying its binlog). Read-your-writes cannot be proven on such a replica, so it is
/// never at least as new as a write mark (those reads go to the writer); against the writer's probed position it counts
/// as caught up, so its lag is judged only by what the server reports (Seconds_Behind_Master, Aurora's replica lag).
/// </summary>
internal sealed class NoGtidPosition : ReplicationPosition
{
    private readonly Kind _kind;

    private NoGtidPosition(Kind kind) => _kind = kind;

    private enum Kind
    {
        Probed,
        Detached,
        WriteMark,
    }

    /// <summary>Gets the position a probe reports for a writer, or a replica that receives from its source.</summary>
    public static NoGtidPosition Probed { get; } = new(Kind.Probed);

    /// <summary>Gets the position of a replica that receives nothing: behind every writer position, so the lag bound excludes it.</summary>
    public static NoGtidPosition Detached { get; } = new(Kind.Detached);

    /// <summary>Gets the position of a write whose position could not be read: no replica reaches it.</summary>
    public static NoGtidPosition WriteMark { get; } = new(Kind.WriteMark);

    /// <inheritdoc/>
    public override ReplicationPositionComparison CompareTo(ReplicationPosition required) => required switch
    {
        NoGtidPosition other when _kind == Kind.Detached || (other._kind == Kind.WriteMark && _kind != Kind.WriteMark) => ReplicationPositionComparison.Older,
        NoGtidPosition => ReplicationPositionComparison.AtLeast,
        _ => ReplicationPositionComparison.NotComparable,
    };

    /// <inheritdoc/>
    public override string ToString() => _kind switch
    {
        Kind.WriteMark => "(write without GTID)",
        Kind.Detached => "(no GTID, not receiving)",
        _ => "(no GTID)",
    };
}
