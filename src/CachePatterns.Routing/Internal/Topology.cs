namespace CachePatterns.Routing.Internal;

/// <summary>An immutable view of who is the writer and which replicas take eventual reads, swapped after each probe round.</summary>
internal sealed class Topology(Endpoint? writer, Endpoint[] readers, int totalReaderWeight, ulong primaryPosition)
{
    public Endpoint? Writer { get; } = writer;

    /// <summary>Gets the healthy replicas within the lag bound.</summary>
    public Endpoint[] Readers { get; } = readers;

    public int TotalReaderWeight { get; } = totalReaderWeight;

    /// <summary>Gets the writer's position at its last probe (0 when unknown).</summary>
    public ulong PrimaryPosition { get; } = primaryPosition;
}
