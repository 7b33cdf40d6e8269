using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The consistency checker from two OS processes over one Redis and one database: no read returns a row older than a
/// write the other process (or its own) finished before the read began, and nothing stale stays cached. The naive,
/// unfenced cache-aside run the same way is caught, so the check can fail here.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class CrossProcessConsistencyTests(RedisServer redis)
{
    /// <summary>Two hot keys; per process 2 writers and 4 readers of 850+ operations each: 10,200+ operations a run.</summary>
    private static readonly CheckerOptions Hot = new(Keys: 2, Writers: 2, Readers: 4, OperationsPerWorker: 850);

    [Theory]
    [InlineData(CacheStrategyKind.CacheAside)]
    [InlineData(CacheStrategyKind.WriteThrough)]
    public async Task Two_processes_never_read_a_row_older_than_a_finished_write(CacheStrategyKind kind)
    {
        var report = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, kind.ToString(), Hot, maxDelayMicroseconds: 500);

        // Readers also invalidate (1 in 20 operations), which is not a read.
        Assert.True(report.Reads >= 2 * Hot.Readers * Hot.OperationsPerWorker * 9 / 10, $"only {report.Reads} reads checked");
        Assert.True(report.IsConsistent, $"{kind}: {report}");
    }

    [Fact]
    public async Task Two_process_checker_catches_a_naive_unfenced_cache_aside()
    {
        var caught = 0;
        var rounds = 0;
        for (; rounds < 5 && caught == 0; rounds++)
        {
            var report = await ConsistencyHostRun.RunAsync("redis", redis.Configuration, "Naive", Hot with { OperationsPerWorker = 300 }, maxDelayMicroseconds: 1000);
            caught += report.OlderThanCompletedWrite;
        }

        Assert.True(caught > 0, $"The two-process checker never caught the naive cache-aside over Redis in {rounds} rounds: it proves nothing.");
    }
}
