namespace CachePatterns.Routing.Internal;

/// <summary>
/// The primary position a set of reads must see (a consistency scope's, or the process-wide mark), and the writes whose
/// position is not read yet. Each writer connection counts a write when it opens and again when it closes (after its
/// commit). A read that needs the position takes the count first, then the primary's current position, and only then
/// marks that count resolved: a read running meanwhile finds the writes still pending and waits for a position read
/// after its own count (it joins a query in flight that started late enough, or reads the position itself), so no read
/// uses a position older than a write that closed before it started.
/// </summary>
internal sealed class WritePosition
{
    private readonly Lock _gate = new();
    private ReplicationPosition? _position;
    private long _writes;
    private long _resolved;
    private (long Count, Task<ReplicationPosition?> Read)? _inFlight;

    public ReplicationPosition? Position => Volatile.Read(ref _position);

    public bool IsPending => Interlocked.Read(ref _writes) != Interlocked.Read(ref _resolved);

    /// <summary>Counts a write whose position is not known yet.</summary>
    public void MarkWrite() => Interlocked.Increment(ref _writes);

    /// <summary>Takes the count of writes to cover, or <see langword="null"/> when every counted write is covered by <see cref="Position"/>.</summary>
    public long? PendingCount()
    {
        var writes = Interlocked.Read(ref _writes);
        return Interlocked.Read(ref _resolved) >= writes ? null : writes;
    }

    /// <summary>Merges a position read after <paramref name="count"/> was taken into the mark, and marks those writes resolved.</summary>
    public void Complete(long count, ReplicationPosition position)
    {
        lock (_gate)
        {
            Volatile.Write(ref _position, position.Merge(_position));
            if (count > _resolved)
            {
                Interlocked.Exchange(ref _resolved, count);
            }
        }
    }

    /// <summary>Copies another mark's position and pending writes into this one (nested scopes).</summary>
    public void Absorb(WritePosition other)
    {
        if (other.Position is { } position)
        {
            lock (_gate)
            {
                Volatile.Write(ref _position, position.Merge(_position));
            }
        }

        if (other.IsPending)
        {
            MarkWrite();
        }
    }

    /// <summary>
    /// The mark covering every write counted before this call: at once when none is pending, else from one read of the
    /// primary's position shared by the callers whose writes it covers. <see langword="null"/> when the position could not be
    /// read (the caller then reads on the writer).
    /// </summary>
    public ValueTask<ReplicationPosition?> ResolveAsync(Func<Task<ReplicationPosition?>> readPosition, CancellationToken cancellationToken)
    {
        if (PendingCount() is not { } count)
        {
            return new(Position);
        }

        Task<ReplicationPosition?> read;
        lock (_gate)
        {
            if (_inFlight is { } flight && flight.Count >= count)
            {
                read = flight.Read;
            }
            else
            {
                read = ReadAndCompleteAsync(count, readPosition);
                _inFlight = (count, read);
            }
        }

        return new(read.WaitAsync(cancellationToken));
    }

    private async Task<ReplicationPosition?> ReadAndCompleteAsync(long count, Func<Task<ReplicationPosition?>> readPosition)
    {
        await Task.Yield(); // out of the lock before the query starts
        var position = await readPosition().ConfigureAwait(false);
        if (position is null)
        {
            return null;
        }

        Complete(count, position);
        return Position;
    }
}
