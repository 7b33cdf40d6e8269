using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The Redis server's clock estimated on the client, so a plain <c>GET</c> can judge an entry's logical deadline
/// (written by the scripts from the server's <c>TIME</c>) without running a script. Learnt from <c>TIME</c>: the server's
/// time is taken to be the midpoint of the round trip, so a sample is off by at most half its round-trip time; between
/// samples a drift allowance of 100 ppm of the time since the sample is added. Re-sampled in the background every
/// <see cref="RefreshInterval"/>; without a sample younger than <see cref="MaxAge"/> the estimate is unknown and the
/// callers fall back to the scripts, which use the server's own clock.
/// </summary>
internal sealed class RedisServerClock(TimeProvider time)
{
    /// <summary>How often the offset is learnt again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>How old a sample may get (while re-sampling fails) before the estimate is no longer used.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    /// <summary>A fixed allowance on top of the measured bound (the server's TIME resolution is 1 µs; ours 1 ms).</summary>
    private const double FixedMarginMs = 2;

    /// <summary>Drift allowance between samples: 100 ppm (quartz clocks without NTP are within about 50 ppm).</summary>
    private const double DriftPerMs = 1e-4;

    private Sample? _sample;
    private int _sampling;

    /// <summary>
    /// Gets the estimated server time (Unix ms) and the error bound (ms) of the estimate; false when no usable sample exists
    /// (a re-sample is then started if none is running).
    /// </summary>
    public bool TryNow(IDatabase db, out long nowMs, out long marginMs)
    {
        var sample = Volatile.Read(ref _sample);
        var timestamp = time.GetTimestamp();
        if (sample is null || time.GetElapsedTime(sample.Timestamp, timestamp) >= RefreshInterval)
        {
            StartSampling(db);
        }

        if (sample is null)
        {
            nowMs = 0;
            marginMs = 0;
            return false;
        }

        var elapsed = time.GetElapsedTime(sample.Timestamp, timestamp).TotalMilliseconds;
        if (elapsed >= MaxAge.TotalMilliseconds || elapsed < 0)
        {
            nowMs = 0;
            marginMs = 0;
            return false;
        }

        nowMs = sample.ServerMs + (long)elapsed;
        marginMs = (long)Math.Ceiling(sample.HalfRoundTripMs + FixedMarginMs + (elapsed * DriftPerMs));
        return true;
    }

    /// <summary>
    /// Gets the estimated server time in Unix µs (the near cache's invalidation delay), without a margin; false when no
    /// usable sample exists.
    /// </summary>
    public bool TryNowMicroseconds(out long nowMicroseconds)
    {
        var sample = Volatile.Read(ref _sample);
        nowMicroseconds = 0;
        if (sample is null)
        {
            return false;
        }

        var elapsed = time.GetElapsedTime(sample.Timestamp);
        if (elapsed >= MaxAge || elapsed < TimeSpan.Zero)
        {
            return false;
        }

        nowMicroseconds = sample.ServerMicroseconds + (long)(elapsed.Ticks / 10);
        return true;
    }

    /// <summary>Forgets the offset (the connection was restored, perhaps to another server).</summary>
    public void Reset() => Volatile.Write(ref _sample, null);

    /// <summary>Records one <c>TIME</c> answer taken between two local timestamps.</summary>
    internal void Record(long serverMs, long sentTimestamp, long receivedTimestamp) =>
        Record(serverMs, serverMs * 1000, sentTimestamp, receivedTimestamp);

    /// <summary>Records one <c>TIME</c> answer, with its microseconds.</summary>
    internal void Record(long serverMs, long serverMicroseconds, long sentTimestamp, long receivedTimestamp)
    {
        var roundTrip = time.GetElapsedTime(sentTimestamp, receivedTimestamp).TotalMilliseconds;

        // The server read its clock somewhere in the round trip: its midpoint is off by at most half of it.
        var midpoint = sentTimestamp + ((receivedTimestamp - sentTimestamp) / 2);
        Volatile.Write(ref _sample, new Sample(serverMs, serverMicroseconds, midpoint, roundTrip / 2));
    }

    /// <summary>Samples now and waits for it (tests, warm-up).</summary>
    internal async Task SampleAsync(IDatabase db)
    {
        var sent = time.GetTimestamp();
        var reply = await db.ExecuteAsync("TIME").ConfigureAwait(false);
        var received = time.GetTimestamp();
        var parts = (RedisResult[])reply!;
        var serverMicroseconds = ((long)parts[0] * 1_000_000) + (long)parts[1];
        Record(serverMicroseconds / 1000, serverMicroseconds, sent, received);
    }

    /// <summary>
    /// Samples <paramref name="count"/> times and keeps the sample with the shortest round trip (the smallest error):
    /// on a loaded client one round trip can take milliseconds, and the estimate is off by up to half of it.
    /// </summary>
    internal async Task SampleBestOfAsync(IDatabase db, int count)
    {
        (long ServerMs, long ServerUs, long Sent, long Received)? best = null;
        for (var i = 0; i < count; i++)
        {
            var sent = time.GetTimestamp();
            var reply = await db.ExecuteAsync("TIME").ConfigureAwait(false);
            var received = time.GetTimestamp();
            var parts = (RedisResult[])reply!;
            var serverMicroseconds = ((long)parts[0] * 1_000_000) + (long)parts[1];
            if (best is null || received - sent < best.Value.Received - best.Value.Sent)
            {
                best = (serverMicroseconds / 1000, serverMicroseconds, sent, received);
            }
        }

        if (best is { } b)
        {
            Record(b.ServerMs, b.ServerUs, b.Sent, b.Received);
        }
    }

    private void StartSampling(IDatabase db)
    {
        if (Interlocked.CompareExchange(ref _sampling, 1, 0) != 0)
        {
            return;
        }

        _ = SampleInBackgroundAsync(db);
    }

    private async Task SampleInBackgroundAsync(IDatabase db)
    {
        try
        {
            await SampleAsync(db).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // The server is away: the old sample ages out and the scripts take over.
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            Volatile.Write(ref _sampling, 0);
        }
    }

    private sealed record Sample(long ServerMs, long ServerMicroseconds, long Timestamp, double HalfRoundTripMs);
}
