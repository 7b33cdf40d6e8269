namespace SessionStore.Sessions;

/// <summary>
/// Counts requests answered "try again" because the session store did not answer, and logs at most one line per
/// <see cref="Interval"/> with the count, so an outage does not flood the log.
/// </summary>
public sealed class SessionOutageLog(TimeProvider time, ILogger<SessionOutageLog> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private long _pending;
    private long _total;
    private DateTimeOffset _lastReport = DateTimeOffset.MinValue;

    /// <summary>Gets how many requests were answered 503 since start.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Report(Exception exception)
    {
        Interlocked.Increment(ref _total);
        long count;
        lock (_lock)
        {
            _pending++;
            var now = time.GetUtcNow();
            if (now - _lastReport < Interval)
            {
                return;
            }

            _lastReport = now;
            count = _pending;
            _pending = 0;
        }

        SessionLog.SessionStoreUnavailable(logger, count, exception);
    }
}
