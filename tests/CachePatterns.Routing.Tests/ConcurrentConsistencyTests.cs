using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests;

/// <summary>Read-your-writes under concurrency (D1): reads of one scope that race the read resolving the scope's write position.</summary>
[Collection(SharedCluster.Name)]
public sealed class ConcurrentConsistencyTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Concurrent_reads_in_a_scope_after_a_write_never_read_a_replica_without_the_write()
    {
        // The only replica replays 4 s late, so a read of the updated row on it is always stale. In each scope (one per
        // request), read 8 resolves the write position while read 7 starts: read 7 must wait for a position read after
        // the write, not take the scope's "nothing written" state that read 8 just cleared.
        await using var router = await Routers.StartAsync([fixture.Primary, fixture.DelayedReplica]);
        var (seven, eight) = (fixture.NewId(), fixture.NewId());
        await fixture.Primary.ExecuteAsync($"INSERT INTO items VALUES ({seven}, 'v0'), ({eight}, 'other')");
        const int iterations = 1000;
        var stale = 0;
        for (var i = 1; i <= iterations; i++)
        {
            using var scope = router.BeginConsistencyScope();
            await router.ExecuteAsync("UPDATE items SET value = @value WHERE id = @seven", new { value = $"v{i}", seven });
            var reads = await Task.WhenAll(
                router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @eight", new { eight }).AsTask(),
                router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @seven", new { seven }).AsTask());
            if (reads[1] != $"v{i}")
            {
                stale++;
            }
        }

        Assert.Equal(0, stale);
    }
}
