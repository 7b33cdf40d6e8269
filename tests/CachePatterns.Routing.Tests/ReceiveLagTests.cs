using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CachePatterns.Routing.Tests.Support;
using Xunit.Abstractions;

namespace CachePatterns.Routing.Tests;

/// <summary>
/// D3: a replica that stopped receiving WAL has replayed all it received, so it reports no lag; the router judges it
/// against the writer's positions instead, and excludes it once it lacks a write older than the bound.
/// </summary>
[Collection(SharedCluster.Name)]
public sealed class ReceiveLagTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const string WhoAmI = "SELECT inet_server_port()";

    [Fact]
    public async Task A_replica_cut_off_from_its_primary_is_excluded_within_the_lag_bound_plus_one_probe_interval()
    {
        var replica = fixture.FastReplica;
        var maxLag = TimeSpan.FromSeconds(1);
        await using var router = await Routers.StartAsync([fixture.Primary, replica], o => o.MaxReplicaLag = maxLag);
        var interval = Routers.Options([]).ProbeInterval;
        using var writing = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                await fixture.Primary.ExecuteAsync($"INSERT INTO items VALUES ({fixture.NewId()}, 'tick')");
                await Task.Delay(100);
            }
        });
        try
        {
            await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name) is { IsReadable: true, LastStatus.IsReceiving: true }, "the streaming replica is readable");
            var clock = Stopwatch.StartNew();
            await replica.SetUpstreamPortAsync(ClosedPort());
            await router.UntilStateAsync(s => !s.Single(e => e.Name == replica.Name).IsReadable, "the cut-off replica is excluded", seconds: 15);
            var excludedAfter = clock.Elapsed;
            var ports = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
            }

            await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name).LastStatus is { IsReceiving: false }, "the replica reports it is not receiving");
            output.WriteLine($"replica cut off -> excluded after {excludedAfter.TotalMilliseconds:0} ms (bound {(maxLag + interval).TotalMilliseconds:0} ms); its own lag report: {router.State(replica).LastStatus?.ReplayLag}");
            Assert.True(excludedAfter <= maxLag + interval + TimeSpan.FromSeconds(3), $"excluded after {excludedAfter}"); // generous: a loaded CI machine
            Assert.All(ports, p => Assert.Equal(fixture.Primary.Port, p));
            Assert.Equal(TimeSpan.Zero, router.State(replica).LastStatus!.Value.ReplayLag);
        }
        finally
        {
            await writing.CancelAsync();
            await writer;
            await replica.SetUpstreamPortAsync(fixture.Primary.Port);
        }

        await router.UntilStateAsync(s => s.Single(e => e.Name == replica.Name).IsReadable, "the reconnected replica catches up and takes reads again");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
