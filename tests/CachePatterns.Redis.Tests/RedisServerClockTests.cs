using CachePatterns.Redis.Internal;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Redis.Tests;

/// <summary>The server clock estimated on the client: offset, error bound, ageing, and a real TIME sample.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisServerClockTests(RedisServer redis)
{
    [Fact]
    public void The_estimate_is_the_midpoint_of_the_sample_plus_local_elapsed_time_with_half_the_round_trip_as_error()
    {
        var time = new FakeTimeProvider();
        var clock = new RedisServerClock(time);
        var sent = time.GetTimestamp();
        time.Advance(TimeSpan.FromMilliseconds(8));
        clock.Record(1_000_000, sent, time.GetTimestamp());

        Assert.True(clock.TryNow(redis.Database, out var now, out var margin));
        Assert.Equal(1_000_004, now);
        Assert.Equal(7, margin); // 4 ms half round trip + 2 ms fixed + 4 ms × 100 ppm, rounded up

        // The local clock runs on; the drift allowance grows with the sample's age (100 ppm).
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(clock.TryNow(redis.Database, out now, out margin));
        Assert.Equal(1_005_004, now);
        Assert.Equal(7, margin);
    }

    [Fact]
    public void Without_a_sample_or_with_one_too_old_the_estimate_is_unknown()
    {
        var time = new FakeTimeProvider();
        var clock = new RedisServerClock(time);
        var sent = time.GetTimestamp();
        clock.Record(5_000, sent, sent);
        Assert.True(clock.TryNow(redis.Database, out _, out _));
        clock.Reset();
        Assert.False(clock.TryNow(redis.Database, out _, out _));

        var old = new RedisServerClock(time);
        old.Record(5_000, time.GetTimestamp(), time.GetTimestamp());
        time.Advance(RedisServerClock.MaxAge);
        Assert.False(old.TryNow(redis.Database, out _, out _));
    }

    [Fact]
    public async Task A_TIME_sample_from_the_server_matches_the_server_clock_within_the_bound()
    {
        var clock = new RedisServerClock(TimeProvider.System);
        await clock.SampleAsync(redis.Database);
        Assert.True(clock.TryNow(redis.Database, out var estimate, out var margin));

        var reply = (StackExchange.Redis.RedisResult[])(await redis.Database.ExecuteAsync("TIME"))!;
        var server = ((long)reply[0] * 1000) + ((long)reply[1] / 1000);

        // The second TIME is read after the estimate: the server is not behind it by more than the bound.
        Assert.InRange(server - estimate, -margin, 60_000);
        Assert.True(margin < 1_000, $"margin {margin} ms");
    }
}
