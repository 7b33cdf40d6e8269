using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

/// <summary>
/// A unit of work (for example one HTTP request) whose reads see its own writes: after each write through the router the
/// scope knows the primary's position, and its reads go to a replica that has replayed it, or to the writer.
/// Begin one with <see cref="RoutingDataSource.BeginConsistencyScope"/>; it flows with the async context until disposed.
/// </summary>
public sealed class RoutingConsistencyScope : IDisposable
{
    private readonly RoutingDataSource _router;
    private bool _disposed;

    internal RoutingConsistencyScope(RoutingDataSource router, ReadConsistency consistency, RoutingConsistencyScope? parent)
    {
        _router = router;
        Consistency = consistency;
        Parent = parent;
        if (parent is not null)
        {
            Writes.Absorb(parent.Writes);
        }
    }

    /// <summary>Gets the consistency of reads in this scope that do not choose their own.</summary>
    public ReadConsistency Consistency { get; }

    /// <summary>Gets the primary's position after the last write of this scope whose position is known (<see langword="null"/> before any).</summary>
    public ReplicationPosition? WritePosition => Writes.Position;

    internal RoutingConsistencyScope? Parent { get; }

    internal WritePosition Writes { get; } = new();

    /// <summary>Ends the scope; its writes still count for an enclosing scope.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Parent?.Writes.Absorb(Writes);

        _router.EndScope(this);
    }
}
