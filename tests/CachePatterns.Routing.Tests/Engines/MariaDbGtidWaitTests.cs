using System.Globalization;
using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests.Engines;

/// <summary>
/// Read-your-writes by waiting on a replica for the write's GTID (<c>MASTER_GTID_WAIT</c>, then the replica's position
/// read back) instead of sending the read to the writer until a probe finds the replica caught up.
/// </summary>
[Collection(SharedMariaDbCluster.Name)]
public sealed class MariaDbGtidWaitTests(MariaDbClusterFixture fixture)
{
    private const string ReadWithPort = "SELECT CONCAT(value, '@', @@port) FROM items WHERE id = @key";

    [Fact]
    public async Task With_a_wait_reads_after_a_write_go_to_the_replica_and_see_the_write()
    {
        var (onReplica, stale) = await WriteThenReadAsync(fixture.FastReplica, TimeSpan.FromSeconds(2), iterations: 200);

        Assert.Equal(0, stale);
        Assert.True(onReplica >= 150, $"{onReplica} of 200 reads after a write ran on the replica");
    }

    [Fact]
    public async Task Without_a_wait_reads_after_a_write_go_to_the_writer_until_a_probe_sees_the_replica_caught_up()
    {
        var (onReplica, stale) = await WriteThenReadAsync(fixture.FastReplica, TimeSpan.Zero, iterations: 50);

        Assert.Equal(0, stale);
        Assert.True(onReplica <= 10, $"{onReplica} of 50 reads after a write ran on the replica");
    }

    [Fact]
    public async Task A_replica_that_does_not_apply_the_write_within_the_wait_leaves_the_read_to_the_writer()
    {
        // The delayed replica applies 4 s late: a wait of 0.3 s runs out and the read goes to the writer, still fresh.
        var (onReplica, stale) = await WriteThenReadAsync(fixture.DelayedReplica, TimeSpan.FromMilliseconds(300), iterations: 5);

        Assert.Equal(0, stale);
        Assert.Equal(0, onReplica);
    }

    private async Task<(int OnReplica, int Stale)> WriteThenReadAsync(IClusterNode replica, TimeSpan wait, int iterations)
    {
        await using var router = await EngineRouters.StartAsync(RoutingEngine.MySql, [fixture.Primary, replica], o =>
        {
            o.ReadYourWritesWait = wait;
            o.ProbeInterval = TimeSpan.FromSeconds(1);
        });
        var key = fixture.NewId();
        await router.ExecuteAsync(fixture.Upsert, new { key, value = "-1" });
        var (onReplica, stale) = (0, 0);
        for (var i = 0; i < iterations; i++)
        {
            using var scope = router.BeginConsistencyScope();
            var value = i.ToString(CultureInfo.InvariantCulture);
            await router.ExecuteAsync("UPDATE items SET value = @value WHERE id = @key", new { key, value });
            var read = (await router.QueryFirstOrDefaultAsync<string>(ReadWithPort, new { key }))!.Split('@');
            stale += read[0] == value ? 0 : 1;
            onReplica += read[1] == replica.Port.ToString(CultureInfo.InvariantCulture) ? 1 : 0;
        }

        return (onReplica, stale);
    }
}
