using System.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Xunit.Abstractions;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The two-process consistency checker with the near cache on (issue 12): two OS processes on one Redis, writers and
/// readers in both, two hot keys, loads slower than writes. No read returns a row older than a write finished before it
/// began, and at quiescence neither process's near cache nor Redis holds a stale entry — also when one process's
/// connection is cut by a relay or Redis is frozen (<c>SIGSTOP</c>) in the middle of the run. An unfenced near cache with
/// invalidation messages, run the same way, is caught.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class NearCacheConsistencyTests(RedisServer redis, ITestOutputHelper output)
{
    /// <summary>Per process 2 writers and 4 readers of 600+ operations each: 7,200+ operations a run.</summary>
    private static readonly CheckerOptions Hot = new(Keys: 2, Writers: 2, Readers: 4, OperationsPerWorker: 600);

    private const double ClockSlackMilliseconds = 2;

    [Fact]
    public async Task Two_processes_with_near_caches_never_read_a_row_older_than_a_finished_write()
    {
        var kind = CacheStrategyKind.CacheAside;
        var report = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, kind.ToString(), Hot, maxDelayMicroseconds: 500, new HostRunOptions(Near: true));
        output.WriteLine(report.ToString());

        Assert.True(report.Reads >= 2 * Hot.Readers * Hot.OperationsPerWorker * 9 / 10, $"only {report.Reads} reads checked");
        AssertConsistentBeyondTheInvalidationDelay(report, $"{kind} with near caches");
    }

    [Fact]
    public async Task Two_process_checker_catches_a_near_cache_whose_fills_are_not_fenced()
    {
        var caught = 0;
        var rounds = 0;
        CheckerReport? last = null;
        for (; rounds < 5 && caught == 0; rounds++)
        {
            last = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, "NaiveNear", Hot with { OperationsPerWorker = 300 }, maxDelayMicroseconds: 1000);
            caught += last.OlderThanCompletedWrite + last.StaleEntries.Count;
            output.WriteLine(last.ToString());
        }

        Assert.True(caught > 0, $"The checker never caught the unfenced near cache in {rounds} rounds: it proves nothing. Last: {last}");
    }

    [Fact]
    public async Task Near_caches_serve_no_older_row_after_one_process_lost_its_connection_midway()
    {
        // Process b only reads: its own writes would put the keys in its invalidation ledger, which keeps them out of every
        // cache level until replayed, and so would hide a near cache that kept its copies through the outage.
        using var relay = new TcpProxy(redis.Port);
        long cutAt = 0, restoredAt = 0;
        var report = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, nameof(CacheStrategyKind.CacheAside), Hot with { Keys = 16, Writers = 1 }, maxDelayMicroseconds: 500, new HostRunOptions(
            Near: true,
            ServersOfSecondProcess: $"127.0.0.1:{relay.Port}",
            WritersOfSecondProcess: 0,
            AtMidway: async () =>
            {
                // Process b is cut off (its invalidation subscription included) while process a goes on writing.
                relay.Cut();
                cutAt = Stopwatch.GetTimestamp();
                await Task.Delay(TimeSpan.FromSeconds(1));
                restoredAt = Stopwatch.GetTimestamp();
                relay.Restore();
            }));
        output.WriteLine(report.ToString());

        // The invalidations of writes a finished while b was cut off never reach b: after the connection is back, b must
        // not return anything older than them. (Writes in the cut's first 500 ms are left out: b may take that long, on a
        // loaded machine, to notice the reset and stop serving its copies — reads it served before are not "after".)
        var detectionAllowance = Stopwatch.Frequency / 2;
        var missedOutageWrites = (report.MissedWriteCompletions ?? []).Count(completed => completed > cutAt + detectionAllowance && completed <= restoredAt);
        output.WriteLine($"cut {cutAt}, restored {restoredAt}; missed writes finished at (ms after the cut): {string.Join(", ", (report.MissedWriteCompletions ?? []).Select(c => ((c - cutAt) * 1000 / Stopwatch.Frequency).ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(missedOutageWrites == 0, $"{missedOutageWrites} reads returned a row older than a write finished while b was cut off: {report}");
        AssertConsistentBeyondTheInvalidationDelay(report, "near caches with process b's connection cut midway");
    }

    [Fact]
    public async Task Near_caches_serve_no_older_row_after_redis_was_frozen_midway()
    {
        var report = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, nameof(CacheStrategyKind.WriteThrough), Hot with { Keys = 16, Writers = 1 }, maxDelayMicroseconds: 500, new HostRunOptions(
            Near: true,
            WritersOfSecondProcess: 0,
            AtMidway: async () =>
            {
                // Longer than the heartbeat's timeout (250 ms + 500 ms), shorter than the checker's operation timeout (5 s).
                redis.Pause();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1.5));
                }
                finally
                {
                    redis.Resume();
                }
            }));
        output.WriteLine(report.ToString());

        AssertConsistentBeyondTheInvalidationDelay(report, "near caches with Redis stopped midway");
    }

    /// <summary>
    /// No stale entry at quiescence, and no read older than a finished write beyond the window the design allows a near
    /// cache: the invalidation delay (a read that began before the write's invalidation arrived may return the copy). The
    /// delay is the near caches' own measure (publish on the server to arrival), so the bound holds on a loaded machine too;
    /// the slack covers the error of the server-clock offset those measures use.
    /// </summary>
    private static void AssertConsistentBeyondTheInvalidationDelay(CheckerReport report, string what)
    {
        Assert.True(report.StaleEntries.Count == 0, $"{what}: {report}");
        Assert.True(
            report.OlderThanCompletedWrite == 0 || report.WindowMilliseconds <= report.InvalidationDelayMilliseconds + ClockSlackMilliseconds,
            $"{what}: reads older than a finished write beyond the measured invalidation delay: {report}");
        Assert.True(report.NearCacheHits > 0, $"{what}: the near caches served nothing: {report}");
    }
}
