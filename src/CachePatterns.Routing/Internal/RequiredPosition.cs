namespace CachePatterns.Routing.Internal;

/// <summary>
/// What a read must see: the scope's mark and the process-wide mark (either may be absent), or <see cref="Unknown"/> when a
/// pending write's position could not be read (the read then goes to the writer).
/// </summary>
internal readonly record struct RequiredPosition(ReplicationPosition? Scope, ReplicationPosition? Process, bool Unknown)
{
    /// <summary>Gets a value indicating whether the read needs anything beyond any healthy replica.</summary>
    public bool Any => Unknown || Scope is not null || Process is not null;

    /// <summary>Whether a replica at <paramref name="replayed"/> has every write of both marks (never when on another history).</summary>
    public bool IsMetBy(ReplicationPosition? replayed) =>
        !Unknown
        && (Scope is null || (replayed is not null && replayed.CompareTo(Scope) == ReplicationPositionComparison.AtLeast))
        && (Process is null || (replayed is not null && replayed.CompareTo(Process) == ReplicationPositionComparison.AtLeast));
}
