using Xunit.Abstractions;
using System.Diagnostics;
using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests.Engines;

/// <summary>
/// The faults production has, on MariaDB: a replica whose link to the primary is cut or whose IO thread stopped, a primary
/// killed and a replica promoted, a replica that hangs (SIGSTOP).
/// The cluster shared by the MariaDB tests serves the faults it recovers from (each test restores it); failover gets its own.
/// </summary>
[Collection(SharedMariaDbCluster.Name)]
public sealed class MariaDbFaultTests(MariaDbClusterFixture fixture, ITestOutputHelper output)
{
    private const string WhoAmI = "SELECT @@port";

    [Theory]
    [InlineData("link cut")]
    [InlineData("IO thread stopped")]
    public async Task A_replica_that_stopped_receiving_is_excluded_within_the_lag_bound_and_one_probe_interval(string fault)
    {
        // The link points at a closed port (IO thread "Connecting"), or the IO thread is stopped: the replica receives none of
        // the primary's writes and has applied all it received, so it looks caught up from inside.
        var (primary, replica) = (fixture.Cluster.Nodes[0], fixture.Cluster.Nodes[1]);
        var maxLag = TimeSpan.FromSeconds(1);
        await using var router = await EngineRouters.StartAsync(RoutingEngine.MySql, [primary, replica], o => o.MaxReplicaLag = maxLag);
        await Wait.UntilAsync(() => Task.FromResult(router.State(replica).IsReadable), TimeSpan.FromSeconds(30), "the replica takes reads before the fault");

        using var writing = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                await primary.ExecuteAsync($"INSERT INTO items VALUES ({fixture.NewId()}, 'tick')");
                await Task.Delay(50);
            }
        });
        try
        {
            await (fault == "link cut" ? replica.CutReplicationLinkAsync() : replica.AdminExecuteAsync("STOP SLAVE IO_THREAD"));
            var watch = Stopwatch.StartNew();
            await Wait.UntilAsync(() => Task.FromResult(!router.State(replica).IsReadable), TimeSpan.FromSeconds(30), "the replica that stopped receiving is excluded");
            var excludedAfter = watch.Elapsed;
            output.WriteLine($"{fault}: excluded {excludedAfter.TotalSeconds:0.000} s after the fault");

            var ports = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
            }

            Assert.Equal(fault == "link cut" ? "Connecting" : "No", await replica.ReplicaStatusAsync("Slave_IO_Running"));
            Assert.False(router.State(replica).LastStatus!.Value.IsReceiving);
            Assert.All(ports, p => Assert.Equal(primary.Port, p));

            // Goal: MaxReplicaLag + one probe interval (1.2 s); the bound here allows for a loaded CI machine.
            Assert.True(excludedAfter < maxLag + TimeSpan.FromSeconds(4), $"excluded after {excludedAfter.TotalSeconds:0.00} s");
        }
        finally
        {
            await writing.CancelAsync();
            await writer;
            await replica.FollowAsync(primary, TimeSpan.Zero);
        }

        await Wait.UntilAsync(() => Task.FromResult(router.State(replica).IsReadable), TimeSpan.FromSeconds(30), "the replica receives again and is readmitted");
    }

    [Fact]
    public async Task After_the_primary_is_killed_and_a_replica_promoted_the_first_write_lands_on_the_new_primary()
    {
        await using var cluster = await MariaDbCluster.StartAsync(TimeSpan.Zero, TimeSpan.Zero);
        await cluster.Primary.ExecuteAsync("CREATE TABLE items (id BIGINT PRIMARY KEY, value VARCHAR(255) NOT NULL)");
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(30));
        var (old, promoted, other) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);
        await using var router = await EngineRouters.StartAsync(RoutingEngine.MySql, cluster.Nodes);
        using var scope = router.BeginConsistencyScope();
        await router.ExecuteAsync("INSERT INTO items VALUES (1, 'before')");
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(30)); // else the failover may lose it: replication is asynchronous

        var watch = Stopwatch.StartNew();
        await old.KillAsync();
        await promoted.PromoteAsync();
        await other.FollowAsync(promoted, TimeSpan.Zero);
        var promotedAfter = watch.Elapsed;

        var refused = 0;
        int writtenOn;
        while (true)
        {
            try
            {
                writtenOn = await router.ExecuteScalarAsync<int>("INSERT INTO items VALUES (2, 'after'); SELECT @@port");
                break;
            }
            catch (RoutingException ex) when (ex.IsSafeToRetry && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                refused++;
                await Task.Delay(20);
            }
        }

        var firstWriteAfter = watch.Elapsed;
        output.WriteLine($"promoted {promotedAfter.TotalSeconds:0.000} s after the kill, first write {firstWriteAfter.TotalSeconds:0.000} s after it ({refused} safe refusals)");
        var afterInScope = await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = 2");

        Assert.Equal(promoted.Port, writtenOn);
        Assert.True(router.State(promoted).IsWriter);
        Assert.False(router.State(old).IsWriter);
        Assert.Equal("after", afterInScope);
        Assert.Equal(2L, await promoted.ScalarAsync<long>("SELECT COUNT(*) FROM items"));
        Assert.True(firstWriteAfter < TimeSpan.FromSeconds(20), $"first write {firstWriteAfter.TotalSeconds:0.00} s after the kill (promoted after {promotedAfter.TotalSeconds:0.00} s, {refused} safe refusals)");
    }

    [Fact]
    public async Task A_hung_replica_is_ejected_within_the_probe_timeout_and_interval_and_reads_then_never_wait_for_it()
    {
        var nodes = fixture.Cluster.Nodes;
        var hung = nodes[1];
        var probeTimeout = TimeSpan.FromSeconds(1);
        var probeInterval = TimeSpan.FromMilliseconds(200);
        await using var router = await EngineRouters.StartAsync(RoutingEngine.MySql, nodes, o =>
        {
            o.ProbeTimeout = probeTimeout;
            o.ProbeInterval = probeInterval;
        });

        await hung.FreezeAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            await Wait.UntilAsync(() => Task.FromResult(router.State(hung).IsEjected), TimeSpan.FromSeconds(30), "the hung replica is ejected");
            var ejectedAfter = watch.Elapsed;
            output.WriteLine($"ejected {ejectedAfter.TotalSeconds:0.000} s after SIGSTOP");

            var slowest = TimeSpan.Zero;
            var ports = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                var read = Stopwatch.StartNew();
                ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
                slowest = read.Elapsed > slowest ? read.Elapsed : slowest;
            }

            output.WriteLine($"slowest read after the ejection {slowest.TotalMilliseconds:0} ms");
            Assert.DoesNotContain(hung.Port, ports);
            Assert.True(slowest < probeTimeout, $"a read after the ejection took {slowest.TotalMilliseconds:0} ms");

            // Goal: ProbeTimeout + ProbeInterval (1.2 s); the bound allows 1.5 s for a loaded CI machine. Waiting for
            // MySqlConnector to give up by itself (cancellation timeout 2 s, then the socket) took 3.1 s.
            Assert.True(ejectedAfter < probeTimeout + probeInterval + TimeSpan.FromSeconds(1.5), $"ejected after {ejectedAfter.TotalSeconds:0.00} s");
        }
        finally
        {
            await hung.ThawAsync();
        }

        await Wait.UntilAsync(() => Task.FromResult(router.State(hung).IsReadable), TimeSpan.FromSeconds(30), "the thawed replica is readmitted");
    }
}
