using CachePatterns.Routing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Routing.Tests;

/// <summary>
/// The headline: after a write of a key, the cache-aside fill of that key reads from the writer or from a replica that
/// has the write, never from a lagging one. The replica here replays 4 s late and is the only one taking reads.
/// </summary>
[Collection(SharedCluster.Name)]
public sealed class CacheFillRoutingTests(ClusterFixture fixture)
{
    [Fact]
    public async Task After_a_write_the_fill_reads_the_new_row_although_the_only_replica_still_has_the_old_one()
    {
        var (cached, replicaHadOld) = await WriteThenReadThroughCacheAsync(fillAware: true);

        Assert.True(replicaHadOld);
        Assert.Equal(["v2", "v2"], cached);
    }

    [Fact]
    public async Task Without_fill_aware_routing_the_fill_caches_the_lagging_replicas_old_row()
    {
        // The failure the router prevents: the same scenario with the fill-awareness off caches the stale row.
        var (cached, replicaHadOld) = await WriteThenReadThroughCacheAsync(fillAware: false);

        Assert.True(replicaHadOld);
        Assert.Equal(["v1", "v1"], cached);
    }

    [Fact]
    public async Task A_bulk_fill_after_a_write_also_reads_the_new_rows()
    {
        await using var services = Services(fillAware: true);
        var strategy = services.GetRequiredService<ICacheStrategy<long, string>>();
        var (a, b) = (fixture.NewId(), fixture.NewId());
        await fixture.Primary.ExecuteAsync($"INSERT INTO items VALUES ({a}, 'a1'), ({b}, 'b1')");
        await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, (await strategy.GetManyAsync([a, b])).Count);

        await strategy.WriteAsync(a, "a2");
        await strategy.WriteAsync(b, "b2");
        var values = await strategy.GetManyAsync([a, b]);

        Assert.Equal("a2", values[a]);
        Assert.Equal("b2", values[b]);
    }

    [Fact]
    public async Task A_fill_racing_another_fill_that_resolves_the_write_position_still_reads_the_write()
    {
        // D1: the fill of J clears "writes pending" and asks the primary for its position; the fill of K, starting while
        // that query is in flight, must not take the old mark (which the replica has) and read K from the replica. The
        // replica has replayed everything before each write (so the old mark admits it), then stops replaying.
        await using var services = Services(fillAware: true, fixture.FastReplica);
        var strategy = services.GetRequiredService<ICacheStrategy<long, string>>();
        var router = services.GetRequiredService<RoutingDataSource>();
        var key = fixture.NewId();
        await fixture.Primary.ExecuteAsync($"INSERT INTO items VALUES ({key}, 'v0')");
        var stale = new List<string>();
        try
        {
            for (var i = 1; i <= 20; i++)
            {
                await fixture.FastReplica.ExecuteAsync("SELECT pg_wal_replay_resume()");
                await strategy.GetAsync(fixture.NewId()); // a fill: the mark takes every write so far
                await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(30), fixture.FastReplica);
                await router.RefreshAsync();
                await fixture.FastReplica.ExecuteAsync("SELECT pg_wal_replay_pause()");

                await strategy.WriteAsync(key, $"v{i}");
                var missing = fixture.NewId();
                var reads = await Task.WhenAll(strategy.GetAsync(missing).AsTask(), strategy.GetAsync(key).AsTask());
                if (reads[1] != $"v{i}")
                {
                    stale.Add($"iteration {i}: read {reads[1]}");
                }

                if (await strategy.GetAsync(key) != $"v{i}")
                {
                    stale.Add($"iteration {i}: cached {await strategy.GetAsync(key)}");
                }
            }
        }
        finally
        {
            await fixture.FastReplica.ExecuteAsync("SELECT pg_wal_replay_resume()");
        }

        Assert.Empty(stale);
    }

    private async Task<(List<string?> Cached, bool ReplicaHadOld)> WriteThenReadThroughCacheAsync(bool fillAware)
    {
        await using var services = Services(fillAware);
        var strategy = services.GetRequiredService<ICacheStrategy<long, string>>();
        var id = fixture.NewId();
        await fixture.Primary.ExecuteAsync($"INSERT INTO items VALUES ({id}, 'v1')");
        await fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("v1", await strategy.GetAsync(id));

        await strategy.WriteAsync(id, "v2");
        var first = await strategy.GetAsync(id);
        var replicaHadOld = await fixture.DelayedReplica.ScalarAsync<string>($"SELECT value FROM items WHERE id = {id}") == "v1";
        var second = await strategy.GetAsync(id);
        return ([first, second], replicaHadOld);
    }

    private ServiceProvider Services(bool fillAware, PgNode? replica = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ItemRepository>();
        services.AddCachePatterns()
            .AddRouting(o =>
            {
                var template = Routers.Options([fixture.Primary, replica ?? fixture.DelayedReplica]);
                foreach (var endpoint in template.Endpoints)
                {
                    o.Endpoints.Add(endpoint);
                }

                o.ProbeInterval = template.ProbeInterval;
                o.FillAwareRouting = fillAware;
            })
            .AddStrategy<long, string>(
                CacheStrategyKind.CacheAside,
                sp => sp.GetRequiredService<ItemRepository>(),
                sp => sp.GetRequiredService<ItemRepository>(),
                o => o.Jitter = 0);
        return services.BuildServiceProvider(validateScopes: true);
    }
}
