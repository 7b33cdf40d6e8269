namespace CachePatterns.Internal;

/// <summary>
/// Lets one log line of an event through per interval and counts the ones it holds back, so that a warning on the
/// failure path stays one line per interval during an outage ("… and 4,210 more like it in the last 10 s").
/// </summary>
/// <remarks>Lock-free: a suppressed call is one timestamp read and one interlocked increment.</remarks>
internal sealed class LogRateLimiter
{
    /// <summary>The interval of every failure-path warning of the core.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly long _intervalTicks;
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    public LogRateLimiter(TimeProvider time, TimeSpan interval)
    {
        _time = time;
        _intervalTicks = Math.Max(1, (long)(interval.TotalSeconds * time.TimestampFrequency));
        Interval = interval;
    }

    /// <summary>Gets the interval between two lines.</summary>
    public TimeSpan Interval { get; }

    /// <summary>
    /// Asks whether this occurrence may be logged. When it may, <paramref name="suppressed"/> is the number of occurrences
    /// held back since the last line (to be written in it); otherwise this one is counted.
    /// </summary>
    public bool TryAcquire(out long suppressed)
    {
        var now = _time.GetTimestamp();
        var next = Volatile.Read(ref _nextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
