namespace CachePatterns.Routing.Internal;

/// <summary>
/// An immutable view of who is the writer and which replicas take eventual reads, rebuilt after each probe answer (and
/// when <see cref="RecheckAt"/> passes: a replica's lag grows while nothing is probed).
/// </summary>
internal sealed class Topology(Endpoint? writer, Endpoint[] readers, int totalReaderWeight, ReplicationPosition? writerPosition, long recheckAt)
{
    public Endpoint? Writer { get; } = writer;

    /// <summary>Gets the healthy replicas on the writer's history and within the lag bounds.</summary>
    public Endpoint[] Readers { get; } = readers;

    public int TotalReaderWeight { get; } = totalReaderWeight;

    /// <summary>Gets the writer's position at its last probe (<see langword="null"/> when unknown).</summary>
    public ReplicationPosition? WriterPosition { get; } = writerPosition;

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) after which a reader's lag passes the bound and the view must be rebuilt; <see cref="long.MaxValue"/> for never.</summary>
    public long RecheckAt { get; } = recheckAt;
}
