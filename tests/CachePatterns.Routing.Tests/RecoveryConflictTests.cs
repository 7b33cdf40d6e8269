using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests;

/// <summary>D6: a replica cancels a read whose locks conflict with the WAL it replays (SQLSTATE 40001); a read is safe to run again.</summary>
[Collection(SharedCluster.Name)]
public sealed class RecoveryConflictTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_read_cancelled_by_a_recovery_conflict_on_a_replica_runs_once_more_elsewhere()
    {
        var replica = fixture.FastReplica;
        await fixture.Primary.ExecuteAsync("CREATE TABLE IF NOT EXISTS conflicts (id int)");
        await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(30), replica);
        await replica.SetAsync("max_standby_streaming_delay", "0");
        try
        {
            await using var router = await Routers.StartAsync([fixture.Primary, replica]);

            // The read holds a lock on "conflicts" on the replica while it sleeps; the primary's ACCESS EXCLUSIVE lock,
            // replayed on the replica, cancels it at once ("canceling statement due to conflict with recovery").
            var read = router.QueryAsync<int>("SELECT inet_server_port() FROM pg_sleep(1.5) LEFT JOIN conflicts ON true").AsTask();
            await Wait.UntilAsync(
                async () => await replica.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FROM pg_sleep(1.5) LEFT JOIN conflicts%' AND pid <> pg_backend_pid()") > 0,
                TimeSpan.FromSeconds(20),
                "the read runs on the replica");
            await fixture.Primary.ExecuteAsync("BEGIN; LOCK TABLE conflicts IN ACCESS EXCLUSIVE MODE; COMMIT");

            Assert.Equal(fixture.Primary.Port, Assert.Single(await read));
        }
        finally
        {
            await replica.ExecuteAsync("ALTER SYSTEM RESET max_standby_streaming_delay");
            await replica.ExecuteAsync("SELECT pg_reload_conf()");
        }
    }
}
