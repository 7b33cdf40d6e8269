using CachePatterns.Routing.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class HealthAndFailoverTests
{
    [Fact]
    public async Task A_replica_is_ejected_after_the_configured_failures_in_a_row_and_readmitted_by_one_success()
    {
        await using var cluster = new FakeCluster(["p", "r"], o => o.FailuresBeforeEjection = 3);
        cluster.Probe.Primary("p").Replica("r");
        await cluster.Router.RefreshAsync();
        cluster.Probe.Down("r");

        await cluster.Router.RefreshAsync();
        await cluster.Router.RefreshAsync();
        var afterTwo = cluster.State("r");
        await cluster.Router.RefreshAsync();
        var afterThree = cluster.State("r");
        var readWhileEjected = await cluster.ReadOnAsync();
        cluster.Probe.Replica("r");
        await cluster.Router.RefreshAsync();

        Assert.False(afterTwo.IsEjected);
        Assert.True(afterTwo.IsReadable);
        Assert.True(afterThree.IsEjected);
        Assert.False(afterThree.IsReadable);
        Assert.Equal("p", readWhileEjected);
        Assert.True(cluster.State("r").IsReadable);
        Assert.Equal("r", await cluster.ReadOnAsync());
    }

    [Fact]
    public async Task Without_fallback_a_read_with_no_healthy_replica_fails_safely_instead_of_loading_the_writer()
    {
        await using var cluster = new FakeCluster(["p", "r"], o => (o.FallbackToWriter, o.FailuresBeforeEjection) = (false, 1));
        cluster.Probe.Primary("p").Down("r");
        await cluster.Router.RefreshAsync();

        var error = await Assert.ThrowsAsync<RoutingException>(() => cluster.ReadOnAsync());

        Assert.True(error.IsSafeToRetry);
        Assert.Contains("FallbackToWriter", error.Message, StringComparison.Ordinal);
        Assert.Equal("p", await cluster.ReadOnAsync(ReadConsistency.Strong));
    }

    [Fact]
    public async Task When_the_writer_fails_and_a_replica_reports_primary_the_writer_moves_and_the_old_pool_is_cleared()
    {
        await using var cluster = new FakeCluster(["a", "b"], o => o.FailuresBeforeEjection = 2);
        cluster.Probe.Primary("a").Replica("b");
        await cluster.Router.RefreshAsync();
        Assert.True(cluster.State("a").IsWriter);

        cluster.Probe.Down("a").Primary("b", 200);
        await cluster.Router.RefreshAsync();
        var afterOneFailure = cluster.State("a").IsWriter;
        await cluster.Router.RefreshAsync();

        Assert.True(afterOneFailure);
        Assert.True(cluster.State("b").IsWriter);
        Assert.Equal(2, cluster.Created("a"));
        await using (var connection = await cluster.Router.OpenWriterConnectionAsync())
        {
            Assert.Equal("b", connection.DataSource);
        }

        // The old primary returning as a primary (split brain) does not take the writes back.
        cluster.Probe.Primary("a", 150);
        await cluster.Router.RefreshAsync();
        Assert.True(cluster.State("b").IsWriter);
        Assert.False(cluster.State("a").IsReadable);
    }

    [Fact]
    public async Task A_writer_demoted_to_replica_while_still_answering_loses_the_writes_and_its_pool_at_the_next_probe()
    {
        await using var cluster = new FakeCluster(["a", "b"]);
        cluster.Probe.Primary("a").Replica("b");
        await cluster.Router.RefreshAsync();
        await using (await cluster.Router.OpenWriterConnectionAsync())
        {
        }

        cluster.Probe.Replica("a", 300).Primary("b", 300);
        await cluster.Router.RefreshAsync();

        Assert.True(cluster.State("b").IsWriter);
        Assert.False(cluster.State("a").IsWriter);
        Assert.True(cluster.State("a").IsReadable);
        Assert.Equal(2, cluster.Created("a"));
        await using var connection = await cluster.Router.OpenWriterConnectionAsync();
        Assert.Equal("b", connection.DataSource);
    }

    [Fact]
    public async Task With_no_primary_writes_fail_with_a_safe_to_retry_routing_exception()
    {
        await using var cluster = new FakeCluster(["a", "b"], o => o.FailuresBeforeEjection = 1);
        cluster.Probe.Down("a").Replica("b");
        await cluster.Router.RefreshAsync();

        var error = await Assert.ThrowsAsync<RoutingException>(async () => await cluster.Router.OpenWriterConnectionAsync());

        Assert.True(error.IsSafeToRetry);
        Assert.Equal(RetrySafety.Safe, error.RetrySafety);
    }

    [Fact]
    public async Task A_connection_that_cannot_open_is_a_safe_routing_exception_naming_the_endpoint()
    {
        await using var cluster = new FakeCluster(["p"]);
        cluster.Probe.Primary("p");
        await cluster.Router.RefreshAsync();
        cluster.Sources["p"].Unreachable = true;

        var error = await Assert.ThrowsAsync<RoutingException>(async () => await cluster.Router.OpenWriterConnectionAsync());

        Assert.Equal("p", error.Endpoint);
        Assert.True(error.IsSafeToRetry);
        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public async Task A_replica_that_does_not_open_is_skipped_for_another_before_its_probes_eject_it()
    {
        await using var cluster = new FakeCluster(["p", "r1", "r2"]);
        cluster.Probe.Primary("p").Replica("r1").Replica("r2");
        await cluster.Router.RefreshAsync();
        cluster.Sources["r1"].Unreachable = true;

        var reads = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            reads.Add(await cluster.ReadOnAsync());
        }

        Assert.All(reads, r => Assert.Equal("r2", r));
    }

    [Fact]
    public async Task Replicas_over_the_lag_bounds_get_no_reads()
    {
        await using var cluster = new FakeCluster(["p", "slow", "behind", "ok"], o => (o.MaxReplicaLag, o.MaxReplicaLagBytes) = (TimeSpan.FromSeconds(2), 1000));
        cluster.Probe.Primary("p", 10_000).Replica("slow", 10_000, lagSeconds: 5).Replica("behind", 8_000).Replica("ok", 9_500, lagSeconds: 1);
        await cluster.Router.RefreshAsync();

        Assert.False(cluster.State("slow").IsReadable);
        Assert.False(cluster.State("behind").IsReadable);
        Assert.True(cluster.State("ok").IsReadable);
        Assert.Equal("ok", await cluster.ReadOnAsync());
    }

    [Fact]
    public async Task Probes_run_on_the_injected_clock_every_interval()
    {
        var time = new FakeTimeProvider();
        await using var cluster = new FakeCluster(["p", "r"], o => o.ProbeInterval = TimeSpan.FromSeconds(5), time, startProbing: true);
        cluster.Probe.Primary("p").Replica("r");
        await Wait.UntilAsync(() => Task.FromResult(cluster.Probe.Probes >= 2), TimeSpan.FromSeconds(30), "the first round probes both endpoints");
        cluster.Probe.Down("r");

        time.Advance(TimeSpan.FromSeconds(4));
        var beforeInterval = cluster.Probe.Probes;
        time.Advance(TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(() => Task.FromResult(cluster.Probe.Probes >= 4), TimeSpan.FromSeconds(30), "the second round runs");
        time.Advance(TimeSpan.FromSeconds(5));
        await Wait.UntilAsync(() => Task.FromResult(cluster.State("r").IsEjected), TimeSpan.FromSeconds(30), "two failed rounds eject the replica");

        Assert.Equal(2, beforeInterval);
    }

    [Fact]
    public async Task A_hung_probe_is_bounded_by_the_probe_timeout_ejects_at_once_and_holds_back_no_other_endpoint()
    {
        // D2: the driver never returns (Npgsql against a SIGSTOPped server); the router's own bound ends the wait.
        await using var cluster = new FakeCluster(["p", "r1", "r2"], o => (o.ProbeTimeout, o.FailuresBeforeEjection) = (TimeSpan.FromSeconds(1), 1));
        cluster.Probe.Primary("p").Replica("r1").Replica("r2");
        await cluster.Router.RefreshAsync();
        cluster.Probe.Hung("r1").Down("r2");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var refresh = cluster.Router.RefreshAsync().AsTask();
        await Wait.UntilAsync(() => Task.FromResult(cluster.State("r2").IsEjected), TimeSpan.FromSeconds(30), "r2's failure is applied");
        var r1WhileWaiting = cluster.State("r1");
        var refreshDoneWhileWaiting = refresh.IsCompleted;
        await refresh.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(refreshDoneWhileWaiting && watch.Elapsed < TimeSpan.FromSeconds(1));
        Assert.False(r1WhileWaiting.IsEjected);
        Assert.True(cluster.State("r1").IsEjected);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the round took {watch.Elapsed}");
        Assert.Equal("p", await cluster.ReadOnAsync());
    }

    [Fact]
    public async Task A_hung_endpoint_whose_driver_blocks_while_cancelling_is_still_ejected_at_the_probe_timeout()
    {
        // Npgsql cancels a command inside the token's callback by connecting again, synchronously; against a hung server that
        // blocks for up to twice its connect timeout. Before, the probe timeout's own timer cancelled the driver's token, so
        // the blocked callback held up the timer that ends the wait: on real servers ejections came at 6.0-6.7 s instead of
        // within 3 s. Here the fake clock fires timers on the advancing thread, so that thread blocks while the driver does.
        var time = new FakeTimeProvider();
        await using var cluster = new FakeCluster(["p", "r1"], o => o.ProbeTimeout = TimeSpan.FromSeconds(1), time);
        cluster.Probe.Primary("p").Replica("r1");
        await cluster.Router.RefreshAsync();
        using var driverLetsGo = new ManualResetEventSlim();
        cluster.Probe.HungAndBlockingOnCancel("r1", driverLetsGo);

        var refresh = cluster.Router.RefreshAsync().AsTask();
        var advance = Task.Run(() => time.Advance(TimeSpan.FromSeconds(1)));
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(cluster.State("r1").IsEjected), TimeSpan.FromSeconds(15), "r1 is ejected while its driver is still cancelling");
            await refresh.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal("p", await cluster.ReadOnAsync());
        }
        finally
        {
            driverLetsGo.Set();
            await advance.WaitAsync(TimeSpan.FromSeconds(15));
        }
    }

    [Fact]
    public async Task An_unknown_host_is_named_in_the_error_and_carried_as_its_inner_exception()
    {
        // D5: before, "No healthy primary is known" with no inner exception (the cause only in a debug log).
        await using var cluster = new FakeCluster(["db1", "db2"]);
        var dns = new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
        cluster.Probe.Fails("db1", dns).Replica("db2");
        await cluster.Router.RefreshAsync();

        var error = await Assert.ThrowsAsync<RoutingException>(async () => await cluster.Router.OpenWriterConnectionAsync());

        Assert.Same(dns, error.InnerException);
        Assert.Contains($"db1: {dns.Message}", error.Message, StringComparison.Ordinal);
        Assert.Contains("db2: a replica", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsSafeToRetry);
    }
}
