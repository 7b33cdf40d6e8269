using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CachePatterns.Routing.PostgreSql;
using CachePatterns.Routing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CachePatterns.Routing.Tests;

/// <summary>
/// Faults production has, on clusters of their own (they hang, cut and promote servers): a hung replica and a hung primary
/// (SIGSTOP of every server process), a replica cut off from its primary, and a failover to the replica that was behind.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private const string WhoAmI = "SELECT inet_server_port()";

    [Fact]
    public async Task A_hung_replica_is_ejected_within_probe_timeout_plus_interval_and_a_hung_primary_fails_writers_fast_with_a_typed_error()
    {
        await using var cluster = await PgCluster.StartAsync(TimeSpan.Zero);
        var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
        await primary.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, value text NOT NULL)");

        // The defaults: probe every 1 s, 2 s timeout, so a hung endpoint is out within 3 s. The driver's own timeouts are
        // long (15 s to connect, 30 s per command), so only the router's bound can end a wait early: without it the first
        // ejection takes two driver timeouts. The assertions allow 2 s of scheduling on top (3.3 s measured at load 27);
        // when the probe timeout's timer cancelled Npgsql synchronously, ejections took 6.0-6.7 s. The output has the figure.
        var options = Routers.Options([], o => (o.ProbeInterval, o.ProbeTimeout) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        foreach (var node in cluster.Nodes)
        {
            options.Endpoints.Add(new RoutingEndpointOptions { Name = node.Name, ConnectionString = $"Host=127.0.0.1;Port={node.Port};Username=postgres;Database=postgres;Timeout=15;Command Timeout=30" });
        }

        var bound = options.ProbeTimeout + options.ProbeInterval;
        var slack = TimeSpan.FromSeconds(2); // scheduling on a loaded 2-core machine
        await using var router = new RoutingDataSource(options);
        await router.RefreshAsync();
        Assert.Equal(replica.Port, Assert.Single(await router.QueryAsync<int>(WhoAmI)));

        // A hung replica, with readers running: it is ejected in time, its reads move to the writer, nothing fails.
        var reads = new ConcurrentBag<(TimeSpan Start, TimeSpan Took, int Port)>();
        var clock = Stopwatch.StartNew();
        using (var reading = new CancellationTokenSource())
        {
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!reading.IsCancellationRequested)
                {
                    var start = clock.Elapsed;
                    var port = Assert.Single(await router.QueryAsync<int>(WhoAmI));
                    reads.Add((start, clock.Elapsed - start, port));
                }
            })).ToArray();
            await Task.Delay(200);
            var frozenAt = clock.Elapsed;
            await replica.FreezeAsync();
            await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name).IsEjected, "the hung replica is ejected");
            var ejectedAfter = clock.Elapsed - frozenAt;
            var afterEjection = clock.Elapsed;
            await Task.Delay(1000);
            await reading.CancelAsync();
            await Task.WhenAll(readers);

            output.WriteLine($"hung replica ejected after {ejectedAfter.TotalMilliseconds:0} ms (bound {bound.TotalMilliseconds:0} ms); longest read {reads.Max(r => r.Took).TotalMilliseconds:0} ms; longest read started after the ejection {reads.Where(r => r.Start >= afterEjection).Select(r => r.Took.TotalMilliseconds).DefaultIfEmpty().Max():0} ms");
            Assert.True(ejectedAfter <= bound + slack, $"ejected after {ejectedAfter}, bound {bound}");
            Assert.All(reads.Where(r => r.Start >= afterEjection), r => Assert.True(r.Took <= options.ProbeTimeout + slack, $"a read after the ejection took {r.Took}"));
            Assert.All(reads.Where(r => r.Start >= afterEjection), r => Assert.Equal(primary.Port, r.Port));
            Assert.All(reads, r => Assert.True(r.Took <= bound + slack, $"a read took {r.Took}"));
        }

        await replica.ThawAsync();
        await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name) is { IsEjected: false, IsReadable: true }, "the thawed replica is readmitted");

        // A hung primary: writers get a typed error within the bound, not a hang; reads go on on the replica.
        var writes = new ConcurrentBag<(TimeSpan Start, TimeSpan Took, Exception? Error)>();
        using (var writing = new CancellationTokenSource())
        {
            var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
            {
                for (var id = w * 1_000_000L; !writing.IsCancellationRequested; id++)
                {
                    var start = clock.Elapsed;
                    Exception? error = null;
                    try
                    {
                        await router.ExecuteAsync("INSERT INTO items VALUES (@id, 'w')", new { id });
                    }
                    catch (Exception ex)
                    {
                        error = ex;
                        await Task.Delay(50);
                    }

                    writes.Add((start, clock.Elapsed - start, error));
                }
            })).ToArray();
            await Task.Delay(200);
            var frozenAt = clock.Elapsed;
            await primary.FreezeAsync();
            await router.UntilStateAsync(s => s.Single(e => e.Name == primary.Name).IsEjected, "the hung primary is ejected");
            var ejectedAfter = clock.Elapsed - frozenAt;
            var readOnReplica = Assert.Single(await router.QueryAsync<int>(WhoAmI));
            await Task.Delay(1000);
            await writing.CancelAsync();
            await Task.WhenAll(writers);

            var failed = writes.Where(w => w.Error is not null).ToList();
            output.WriteLine($"hung primary ejected after {ejectedAfter.TotalMilliseconds:0} ms; {failed.Count} writes failed, longest write {writes.Max(w => w.Took).TotalMilliseconds:0} ms; first error: {failed.FirstOrDefault().Error?.Message}");
            Assert.True(ejectedAfter <= bound + slack, $"ejected after {ejectedAfter}, bound {bound}");
            Assert.All(writes, w => Assert.True(w.Took <= bound + slack, $"a write took {w.Took}"));
            Assert.NotEmpty(failed);
            Assert.All(failed, w => Assert.IsType<RoutingException>(w.Error));
            Assert.Contains(failed, w => w.Error!.Message.Contains("No healthy primary", StringComparison.Ordinal) && w.Error.InnerException is TimeoutException);
            Assert.Equal(replica.Port, readOnReplica);
        }

        await primary.ThawAsync();
        await router.UntilStateAsync(s => s.Single(e => e.Name == primary.Name) is { IsEjected: false, IsWriter: true }, "the thawed primary takes the writes again");
        await router.ExecuteAsync("INSERT INTO items VALUES (-1, 'after')");
    }

    [Fact]
    public async Task After_a_failover_to_the_replica_that_was_behind_the_old_timeline_replica_gets_no_reads_and_no_fills()
    {
        // n1 is cut off from the primary, then the primary writes rows only n2 gets, dies, and n1 is promoted (timeline 2).
        // n2 stays on timeline 1 with a higher LSN and rows that exist in no database any more.
        await using var cluster = await PgCluster.StartAsync(TimeSpan.Zero, TimeSpan.Zero);
        var (primary, behind, orphan) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);
        await primary.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, value text NOT NULL); CREATE TABLE filler (v text)");
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

        var services = new ServiceCollection();
        services.AddSingleton<ItemRepository>();
        services.AddCachePatterns()
            .AddRouting(o =>
            {
                foreach (var endpoint in Routers.Options(cluster.Nodes).Endpoints)
                {
                    o.Endpoints.Add(endpoint);
                }

                o.ProbeInterval = TimeSpan.FromMilliseconds(200);
            })
            .AddStrategy<long, string>(CacheStrategyKind.CacheAside, sp => sp.GetRequiredService<ItemRepository>(), sp => sp.GetRequiredService<ItemRepository>(), o => o.Jitter = 0);
        await using var provider = services.BuildServiceProvider();
        var strategy = provider.GetRequiredService<ICacheStrategy<long, string>>();
        var router = provider.GetRequiredService<RoutingDataSource>();

        await behind.SetUpstreamPortAsync(ClosedPort());
        await Wait.UntilAsync(async () => await behind.ScalarAsync<long>("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") == 0, TimeSpan.FromSeconds(30), "n1 stops receiving");
        var lost = Enumerable.Range(1, 50).Select(i => (long)i).ToList();
        foreach (var id in lost)
        {
            await strategy.WriteAsync(id, "lost");
        }

        await primary.ExecuteAsync("INSERT INTO filler SELECT repeat('x', 100) FROM generate_series(1, 2000)"); // n2 well ahead in LSN
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60), orphan);
        await primary.KillAsync();
        await behind.PromoteAsync();
        await router.UntilStateAsync(s => s.Single(e => e.Name == behind.Name).IsWriter, "the promoted replica is the writer");
        await router.UntilStateAsync(s => s.Single(e => e.Name == orphan.Name).LastStatus is { IsReceiving: false }, "the orphan is seen not receiving");

        var orphanState = router.State(orphan);
        var writerState = router.State(behind);
        output.WriteLine($"writer {writerState.LastStatus?.Position}, orphan {orphanState.LastStatus?.Position}");
        Assert.Equal(2u, Assert.IsType<PgPosition>(writerState.LastStatus!.Value.Position).Timeline);
        Assert.Equal(1u, Assert.IsType<PgPosition>(orphanState.LastStatus!.Value.Position).Timeline);
        Assert.True(((PgPosition)orphanState.LastStatus.Value.Position).Lsn > ((PgPosition)writerState.LastStatus.Value.Position).Lsn);
        Assert.False(orphanState.IsReadable);

        // Fills of the lost rows: none may cache a row of the lost timeline.
        var cachedLost = 0;
        foreach (var id in lost)
        {
            if (await strategy.GetAsync(id) is not null)
            {
                cachedLost++;
            }
        }

        // Read-your-writes on the new timeline, and eventual reads: never on the orphan.
        var violations = 0;
        for (var i = 0; i < 100; i++)
        {
            using var scope = router.BeginConsistencyScope();
            var id = 1000L + i;
            await router.ExecuteAsync("INSERT INTO items VALUES (@id, 'new')", new { id });
            if (await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }) != "new")
            {
                violations++;
            }
        }

        var eventualPorts = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            eventualPorts.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
        }

        Assert.Equal(0, cachedLost);
        Assert.Equal(0, violations);
        Assert.DoesNotContain(orphan.Port, eventualPorts);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
