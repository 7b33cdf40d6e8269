namespace CachePatterns.Routing.Internal;

/// <summary>
/// The highest primary position a set of reads must see (a consistency scope's, or the process-wide mark), plus a
/// "pending" flag for writes whose position is not read yet: a writer connection sets it when it opens and again when it
/// closes (after its commit), and the next read that needs the position clears it, then reads the primary's position.
/// </summary>
internal sealed class WritePosition
{
    private ulong _position;
    private int _pending;

    public ulong Position => Interlocked.Read(ref _position);

    public bool IsPending => Volatile.Read(ref _pending) != 0;

    public void MarkPending() => Volatile.Write(ref _pending, 1);

    /// <summary>Clears the pending flag; returns whether it was set. Clear before reading the position, so no write is missed.</summary>
    public bool TakePending() => Interlocked.Exchange(ref _pending, 0) != 0;

    public void Advance(ulong position)
    {
        var current = Interlocked.Read(ref _position);
        while (position > current)
        {
            var seen = Interlocked.CompareExchange(ref _position, position, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
