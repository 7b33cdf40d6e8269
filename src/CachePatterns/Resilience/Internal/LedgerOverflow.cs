using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The overflow bookkeeping of a ledger of lost invalidations (<see cref="InvalidationLedger{TKey}"/> for keys,
/// <see cref="TagInvalidationLedger"/> for tags): whether it overflowed, when the last invalidation was lost, and the
/// longest lifetime of the entries it covers, which bounds a sweep-less overflow. One owner for the rule "only a settlement
/// that started after the last loss ends an overflow".
/// </summary>
internal sealed class LedgerOverflow(TimeProvider time)
{
    private const long Forever = long.MaxValue;
    private long _lastLossAt;
    private long _longestLifetimeTicks;
    private volatile bool _overflowed;

    /// <summary>Gets a value indicating whether the ledger overflowed and is not settled yet.</summary>
    public bool IsOverflowed => _overflowed;

    /// <summary>Gets the timestamp of the last lost invalidation.</summary>
    public long LastLoss => Interlocked.Read(ref _lastLossAt);

    /// <summary>Notes a lost invalidation now.</summary>
    public void NoteLoss() => Interlocked.Exchange(ref _lastLossAt, time.GetTimestamp());

    /// <summary>The ledger overflows now (a loss: its entries are forgotten).</summary>
    public void Enter()
    {
        NoteLoss();
        _overflowed = true;
    }

    /// <summary>Notes the lifetime of an entry the ledger covers (expiration plus stale retention; none: forever).</summary>
    public void NoteLifetime(StoreEntryOptions options)
    {
        var ttl = options.PhysicalTimeToLive();
        var ticks = ttl is { } t ? (long)(t.TotalSeconds * time.TimestampFrequency) : Forever;
        var seen = Volatile.Read(ref _longestLifetimeTicks);
        while (ticks > seen)
        {
            var previous = Interlocked.CompareExchange(ref _longestLifetimeTicks, ticks, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    /// <summary>Whether every entry written before <paramref name="lastLoss"/> has expired at <paramref name="now"/>.</summary>
    public bool ExpiredSince(long lastLoss, long now)
    {
        var lifetime = Volatile.Read(ref _longestLifetimeTicks);
        return lifetime != Forever && now - lastLoss >= Math.Max(lifetime, 1);
    }

    /// <summary>Leaves the overflow unless a loss came in after <paramref name="lastLoss"/> (which needs a settlement of its own).</summary>
    public bool TryEnd(long lastLoss)
    {
        if (LastLoss != lastLoss)
        {
            return false;
        }

        _overflowed = false;
        if (LastLoss != lastLoss)
        {
            _overflowed = true;
            return false;
        }

        return true;
    }

    /// <summary>Says how long a sweep-less overflow lasts, for the warning.</summary>
    public string DescribeLifetime(string entries)
    {
        var lifetime = Volatile.Read(ref _longestLifetimeTicks);
        return lifetime == Forever
            ? $"{entries} without expiration were written, so until this process restarts"
            : $"the longest lifetime of {entries} written is {TimeSpan.FromSeconds((double)Math.Max(lifetime, 1) / time.TimestampFrequency)}";
    }
}
