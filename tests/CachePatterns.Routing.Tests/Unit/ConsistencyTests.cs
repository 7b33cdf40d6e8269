using CachePatterns.Routing.PostgreSql;
using CachePatterns.Routing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class ConsistencyTests
{
    [Fact]
    public async Task In_a_scope_a_read_after_a_write_goes_to_the_writer_until_a_replica_has_replayed_the_write()
    {
        await using var cluster = Cluster(replicaPosition: 100);
        using var scope = cluster.Router.BeginConsistencyScope();
        Assert.Equal("r", await cluster.ReadOnAsync());
        Assert.Equal(0, cluster.Probe.WritePositionReads);

        await WriteAsync(cluster, primaryPositionAfter: 150);
        var beforeReplay = await cluster.ReadOnAsync();
        cluster.Probe.Replica("r", 150);
        await cluster.Router.RefreshAsync();
        var afterReplay = await cluster.ReadOnAsync();

        Assert.Equal("p", beforeReplay);
        Assert.Equal("r", afterReplay);
        Assert.Equal(new PgPosition(1, 150), scope.WritePosition);
        Assert.Equal(1, cluster.Probe.WritePositionReads);
    }

    [Fact]
    public async Task A_read_that_starts_while_another_resolves_the_write_position_waits_for_a_position_read_after_the_write()
    {
        // D1: before, the first read cleared "writes pending" before its query returned, and the second took the old mark.
        await using var cluster = Cluster(replicaPosition: 100);
        using var scope = cluster.Router.BeginConsistencyScope();
        var primaryAnswers = new TaskCompletionSource();
        cluster.Probe.WritePositionDelay = () => primaryAnswers.Task;
        await WriteAsync(cluster, primaryPositionAfter: 150);

        var first = cluster.ReadOnAsync();
        var second = cluster.ReadOnAsync();
        var secondWaited = !second.IsCompleted;
        primaryAnswers.SetResult();

        Assert.True(secondWaited);
        Assert.Equal("p", await first);
        Assert.Equal("p", await second);
        Assert.Equal(1, cluster.Probe.WritePositionReads);
        Assert.Equal(new PgPosition(1, 150), scope.WritePosition);
    }

    [Fact]
    public async Task Eventual_reads_ignore_the_scopes_writes_and_strong_reads_always_use_the_writer()
    {
        await using var cluster = Cluster(replicaPosition: 100);
        using var scope = cluster.Router.BeginConsistencyScope(ReadConsistency.Eventual);
        await WriteAsync(cluster, primaryPositionAfter: 150);

        Assert.Equal("r", await cluster.ReadOnAsync());
        Assert.Equal("r", await cluster.ReadOnAsync(ReadConsistency.Eventual));
        Assert.Equal("p", await cluster.ReadOnAsync(ReadConsistency.ReadYourWrites));
        Assert.Equal("p", await cluster.ReadOnAsync(ReadConsistency.Strong));
    }

    [Fact]
    public async Task A_read_under_a_cache_fill_sees_every_write_of_the_process_and_others_do_not_wait_for_it()
    {
        await using var cluster = Cluster(replicaPosition: 100);
        await WriteAsync(cluster, primaryPositionAfter: 150);

        var outsideFill = await cluster.ReadOnAsync();
        var underFill = await InsideCacheFillAsync(() => cluster.ReadOnAsync());

        Assert.Equal("r", outsideFill);
        Assert.Equal("p", underFill);
        Assert.Equal(new PgPosition(1, 150), cluster.Router.LastWritePosition);
    }

    [Fact]
    public async Task A_fill_with_fill_awareness_off_reads_the_lagging_replica()
    {
        await using var cluster = Cluster(replicaPosition: 100, o => o.FillAwareRouting = false);
        await WriteAsync(cluster, primaryPositionAfter: 150);

        Assert.Equal("r", await InsideCacheFillAsync(() => cluster.ReadOnAsync()));
    }

    [Fact]
    public async Task A_nested_scope_sees_the_outer_scopes_writes_and_hands_its_own_back()
    {
        await using var cluster = Cluster(replicaPosition: 100);
        using var outer = cluster.Router.BeginConsistencyScope();
        await WriteAsync(cluster, primaryPositionAfter: 150);
        using (var inner = cluster.Router.BeginConsistencyScope())
        {
            Assert.Same(inner, cluster.Router.CurrentScope);
            Assert.Equal("p", await cluster.ReadOnAsync());
            await WriteAsync(cluster, primaryPositionAfter: 180);
            Assert.Equal("p", await cluster.ReadOnAsync());
        }

        cluster.Probe.Replica("r", 160);
        await cluster.Router.RefreshAsync();

        Assert.Same(outer, cluster.Router.CurrentScope);
        Assert.Equal(new PgPosition(1, 180), outer.WritePosition);
        Assert.Equal("p", await cluster.ReadOnAsync());
    }

    [Fact]
    public async Task The_synchronous_reader_endpoint_gives_an_unopened_replica_connection_and_the_writer_while_a_write_position_is_unresolved()
    {
        await using var cluster = Cluster(replicaPosition: 100);
        using var scope = cluster.Router.BeginConsistencyScope();

        using var plain = cluster.Router.Readers.CreateConnection();
        await WriteAsync(cluster, primaryPositionAfter: 150);
        using var afterWrite = cluster.Router.Readers.CreateConnection();

        Assert.Equal(System.Data.ConnectionState.Closed, plain.State);
        Assert.Equal("r", plain.DataSource);
        Assert.Equal("p", afterWrite.DataSource);
        Assert.Equal(0, cluster.Probe.WritePositionReads);
    }

    private static FakeCluster Cluster(ulong replicaPosition, Action<RoutingOptions>? configure = null)
    {
        var cluster = new FakeCluster(["p", "r"], configure);
        cluster.Probe.Primary("p", replicaPosition).Replica("r", replicaPosition);
        cluster.Router.RefreshAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    }

    /// <summary>A write through the router: a writer connection opened and closed, after which the primary is at <paramref name="primaryPositionAfter"/>.</summary>
    private static async Task WriteAsync(FakeCluster cluster, ulong primaryPositionAfter)
    {
        await using (await cluster.Router.OpenWriterConnectionAsync())
        {
            cluster.Probe.WritePosition = new PgPosition(1, primaryPositionAfter);
        }
    }

    /// <summary>Runs <paramref name="read"/> as a cache-aside loader, so <see cref="CacheFillContext.IsActive"/> is set by the core.</summary>
    private static async Task<string> InsideCacheFillAsync(Func<Task<string>> read)
    {
        var services = new ServiceCollection();
        services.AddCachePatterns().AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => null);
        await using var provider = services.BuildServiceProvider();
        var strategy = provider.GetRequiredService<ICacheStrategy<int, string>>();
        return (await strategy.GetOrLoadAsync(1, async (_, _) => LoadResult.Found(await read())))!;
    }
}
