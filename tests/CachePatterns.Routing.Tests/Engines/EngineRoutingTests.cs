using CachePatterns.Routing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Routing.Tests.Engines;

/// <summary>
/// Routing behaviours every engine must have, run against each engine's real cluster (a primary, a prompt and a delayed
/// replica): one set of tests, a subclass per engine. Which server ran a statement is asked of the server itself.
/// </summary>
public abstract class EngineRoutingTests(IRoutingCluster cluster)
{
    private string WhoAmI => "SELECT " + cluster.PortExpression;

    private IClusterNode[] Nodes => [cluster.Primary, cluster.FastReplica, cluster.DelayedReplica];

    [Fact]
    public async Task Roles_are_discovered_reads_spread_over_both_replicas_and_writes_run_on_the_primary()
    {
        await using var router = await EngineRouters.StartAsync(cluster.Engine, Nodes);

        var ports = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
        }

        var id = cluster.NewId();
        await router.ExecuteAsync(cluster.Upsert, new { key = id, value = "w" });
        var writtenOn = await router.ExecuteScalarAsync<int>(WhoAmI);

        Assert.True(router.State(cluster.Primary).IsWriter);
        Assert.True(router.State(cluster.FastReplica).IsReadable);
        Assert.True(router.State(cluster.DelayedReplica).IsReadable);
        Assert.Equal(cluster.Primary.Port, writtenOn);
        Assert.Equal("w", await cluster.Primary.ScalarAsync<string>($"SELECT value FROM items WHERE id = {id}"));
        Assert.Equal(20, ports.Count(p => p == cluster.FastReplica.Port));
        Assert.Equal(20, ports.Count(p => p == cluster.DelayedReplica.Port));
    }

    [Fact]
    public async Task Read_your_writes_holds_for_concurrent_reads_in_a_scope_1000_times()
    {
        // Write row 7, then read rows 8 and 7 at once: the read of 8 must not let the read of 7 use a position older than the write.
        await using var router = await EngineRouters.StartAsync(cluster.Engine, Nodes);
        var (seven, eight) = (cluster.NewId(), cluster.NewId());
        await router.ExecuteAsync(cluster.Upsert, new { key = seven, value = "-1" });
        await router.ExecuteAsync(cluster.Upsert, new { key = eight, value = "eight" });
        const string Read = "SELECT value FROM items WHERE id = @key";

        var violations = 0;
        for (var i = 0; i < 1000; i++)
        {
            using var scope = router.BeginConsistencyScope();
            var value = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await router.ExecuteAsync("UPDATE items SET value = @value WHERE id = @key", new { key = seven, value });
            var reads = await Task.WhenAll(
                router.QueryFirstOrDefaultAsync<string>(Read, new { key = eight }).AsTask(),
                router.QueryFirstOrDefaultAsync<string>(Read, new { key = seven }).AsTask());
            if (reads[1] != value)
            {
                violations++;
            }
        }

        Assert.Equal(0, violations);
    }

    [Fact]
    public async Task Read_your_writes_uses_a_replica_once_it_has_applied_the_write()
    {
        await using var router = await EngineRouters.StartAsync(cluster.Engine, [cluster.Primary, cluster.DelayedReplica]);
        using var scope = router.BeginConsistencyScope();
        var id = cluster.NewId();
        await router.ExecuteAsync(cluster.Upsert, new { key = id, value = "later" });

        var atOnce = Assert.Single(await router.QueryAsync<int>(WhoAmI));
        var eventual = await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }, ReadConsistency.Eventual);
        await Wait.UntilAsync(
            async () => Assert.Single(await router.QueryAsync<int>(WhoAmI)) == cluster.DelayedReplica.Port,
            TimeSpan.FromSeconds(30),
            "the delayed replica applied the scope's write and takes its reads");

        Assert.Equal(cluster.Primary.Port, atOnce);
        Assert.Null(eventual);
        Assert.Equal("later", await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }));
    }

    [Theory]
    [InlineData(true, "v2")]
    [InlineData(false, "v1")]
    public async Task After_a_write_a_cache_fill_reads_the_new_row_although_the_only_replica_still_has_the_old_one(bool fillAware, string cached)
    {
        // Without fill-aware routing the same scenario caches the delayed replica's old row, and keeps serving it.
        var services = new ServiceCollection();
        services.AddCachePatterns()
            .AddRouting(o =>
            {
                var template = EngineRouters.Options(cluster.Engine, [cluster.Primary, cluster.DelayedReplica]);
                o.Engine = template.Engine;
                o.ProbeInterval = template.ProbeInterval;
                foreach (var endpoint in template.Endpoints)
                {
                    o.Endpoints.Add(endpoint);
                }

                o.FillAwareRouting = fillAware;
            })
            .AddStrategy<long, string>(
                CacheStrategyKind.CacheAside,
                sp => new EngineItemRepository(sp.GetRequiredService<RoutingDataSource>(), cluster),
                sp => new EngineItemRepository(sp.GetRequiredService<RoutingDataSource>(), cluster),
                o => o.Jitter = 0);
        await using var provider = services.BuildServiceProvider(validateScopes: true);
        var strategy = provider.GetRequiredService<ICacheStrategy<long, string>>();
        var id = cluster.NewId();
        await cluster.Primary.ExecuteAsync($"INSERT INTO items (id, value) VALUES ({id}, 'v1')");
        await cluster.WaitForReplicasAsync();
        Assert.Equal("v1", await strategy.GetAsync(id));

        await strategy.WriteAsync(id, "v2");
        var first = await strategy.GetAsync(id);
        var replicaHadOld = await cluster.DelayedReplica.ScalarAsync<string>($"SELECT value FROM items WHERE id = {id}") == "v1";
        var second = await strategy.GetAsync(id);

        Assert.True(replicaHadOld);
        Assert.Equal(cached, first);
        Assert.Equal(cached, second);
    }

    [Fact]
    public async Task A_replica_lagging_beyond_the_bound_gets_no_reads_until_it_catches_up()
    {
        await using var router = await EngineRouters.StartAsync(cluster.Engine, Nodes, o => o.MaxReplicaLag = TimeSpan.FromSeconds(1.5));
        using var writing = new CancellationTokenSource();

        // Writes every 100 ms keep the delayed replica ApplyDelay behind for as long as they go on.
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                await cluster.Primary.ExecuteAsync($"INSERT INTO items (id, value) VALUES ({cluster.NewId()}, 'tick')");
                await Task.Delay(100);
            }
        });
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(!router.State(cluster.DelayedReplica).IsReadable), TimeSpan.FromSeconds(30), "the delayed replica is excluded for lag");
            var ports = new List<int>();
            for (var i = 0; i < 30; i++)
            {
                ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
            }

            Assert.DoesNotContain(cluster.DelayedReplica.Port, ports);
            Assert.Contains(cluster.FastReplica.Port, ports);
        }
        finally
        {
            await writing.CancelAsync();
            await writer;
        }

        await Wait.UntilAsync(() => Task.FromResult(router.State(cluster.DelayedReplica).IsReadable), TimeSpan.FromSeconds(30), "the delayed replica caught up and takes reads again");
    }

    [Fact]
    public async Task A_write_sent_through_a_read_is_refused_on_a_replica_and_on_the_writer_and_never_happens()
    {
        await using var router = await EngineRouters.StartAsync(cluster.Engine, Nodes, o => o.FallbackToWriter = false);
        var id = cluster.NewId();
        await router.ExecuteAsync(cluster.Upsert, new { key = id, value = "original" });
        const string Sneaky = "UPDATE items SET value = 'sneaky' WHERE id = @id";

        var onReplica = await Assert.ThrowsAsync<InvalidOperationException>(async () => await router.QueryAsync<int>(Sneaky, new { id }));
        var onWriter = await Assert.ThrowsAsync<InvalidOperationException>(async () => await router.QueryAsync<int>(Sneaky, new { id }, ReadConsistency.Strong));

        Assert.Contains("nothing was written", onReplica.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was written", onWriter.Message, StringComparison.Ordinal);
        Assert.Equal("original", await cluster.Primary.ScalarAsync<string>($"SELECT value FROM items WHERE id = {id}"));
    }

    [Fact]
    public async Task Strong_reads_locking_reads_and_transactions_run_on_the_writer()
    {
        await using var router = await EngineRouters.StartAsync(cluster.Engine, Nodes);
        var id = cluster.NewId();
        await router.ExecuteAsync(cluster.Upsert, new { key = id, value = "lock me" });

        var strong = await router.QueryAsync<int>(WhoAmI, consistency: ReadConsistency.Strong);
        var locking = await router.QueryAsync<int>($"SELECT {cluster.PortExpression} FROM items WHERE id = @id FOR UPDATE", new { id });
        var inTransaction = await router.InTransactionAsync(async (connection, transaction, ct) =>
            await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, WhoAmI, transaction: transaction));

        Assert.Equal(cluster.Primary.Port, Assert.Single(strong));
        Assert.Equal(cluster.Primary.Port, Assert.Single(locking));
        Assert.Equal(cluster.Primary.Port, inTransaction);
    }
}
