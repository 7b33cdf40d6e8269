using CachePatterns.Routing.PostgreSql;
using CachePatterns.Routing.Tests.Support;
using Npgsql;

namespace CachePatterns.Routing.Tests;

/// <summary>Routing on a real primary with a prompt and a delayed replica; the server that ran each statement says which it was (<c>inet_server_port()</c>).</summary>
[Collection(SharedCluster.Name)]
public sealed class ClusterRoutingTests(ClusterFixture fixture)
{
    private const string WhoAmI = "SELECT inet_server_port()";

    [Fact]
    public async Task Reads_are_spread_over_both_replicas_and_writes_run_on_the_primary()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);
        Assert.True(router.State(fixture.Primary).IsWriter);

        var ports = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
        }

        var id = fixture.NewId();
        var writtenOn = await router.ExecuteScalarAsync<int>("INSERT INTO items VALUES (@id, 'w') RETURNING inet_server_port()", new { id });

        Assert.Equal(fixture.Primary.Port, writtenOn);
        Assert.Equal("w", await fixture.Primary.ScalarAsync<string>($"SELECT value FROM items WHERE id = {id}"));
        Assert.Equal(20, ports.Count(p => p == fixture.FastReplica.Port));
        Assert.Equal(20, ports.Count(p => p == fixture.DelayedReplica.Port));
    }

    [Fact]
    public async Task A_write_sent_through_a_read_reaches_a_replica_is_refused_and_never_happens()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes, o => o.FallbackToWriter = false);
        var id = fixture.NewId();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await router.QueryAsync<long>("INSERT INTO items VALUES (@id, 'sneaky') RETURNING id", new { id }));

        Assert.Equal("25006", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.Contains("write through a read", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await fixture.Primary.ScalarAsync<long>($"SELECT count(*) FROM items WHERE id = {id}"));
    }

    [Fact]
    public async Task A_write_sent_through_a_read_that_lands_on_the_writer_is_refused_too_and_never_happens()
    {
        // D7, refused everywhere: reads on the writer (strong, fallback, read-your-writes) run in read-only sessions.
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);
        var (strongId, rawId, scopedId) = (fixture.NewId(), fixture.NewId(), fixture.NewId());

        var strong = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await router.QueryAsync<long>("INSERT INTO items VALUES (@strongId, 'sneaky') RETURNING id", new { strongId }, ReadConsistency.Strong));
        await using (var raw = await router.OpenReaderConnectionAsync(ReadConsistency.Strong))
        {
            await using var command = raw.CreateCommand();
            command.CommandText = $"INSERT INTO items VALUES ({rawId}, 'sneaky') RETURNING inet_server_port()";
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal("25006", refused.SqlState);
        }

        using (router.BeginConsistencyScope())
        {
            await router.ExecuteAsync("INSERT INTO items VALUES (@scopedId, 'mine')", new { scopedId });
            var scoped = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
                await router.QueryAsync<long>("UPDATE items SET value = 'sneaky' WHERE id = @scopedId RETURNING id", new { scopedId }));
            Assert.Equal("25006", Assert.IsType<PostgresException>(scoped.InnerException).SqlState);
        }

        Assert.Equal("25006", Assert.IsType<PostgresException>(strong.InnerException).SqlState);
        Assert.Contains(fixture.Primary.Name, strong.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await fixture.Primary.ScalarAsync<long>($"SELECT count(*) FROM items WHERE id IN ({strongId}, {rawId})"));
        Assert.Equal("mine", await fixture.Primary.ScalarAsync<string>($"SELECT value FROM items WHERE id = {scopedId}"));
    }

    [Fact]
    public async Task Locking_reads_and_transactions_run_on_the_writer()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);
        var id = fixture.NewId();
        await router.ExecuteAsync("INSERT INTO items VALUES (@id, 'lock me')", new { id });

        var lockedOn = await router.InTransactionAsync(async (connection, transaction, ct) =>
            await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT inet_server_port() FROM items WHERE id = @id FOR UPDATE", new { id }, transaction));
        var forShare = await router.QueryAsync<int>("SELECT inet_server_port() FROM items WHERE id = @id FOR SHARE", new { id });

        Assert.Equal(fixture.Primary.Port, lockedOn);
        Assert.Equal(fixture.Primary.Port, Assert.Single(forShare));
    }

    [Fact]
    public async Task A_replica_lagging_beyond_the_bound_gets_no_reads_until_it_catches_up()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes, o => o.MaxReplicaLag = TimeSpan.FromSeconds(1.5));
        using var writing = new CancellationTokenSource();

        // Writes every 100 ms keep the delayed replica ApplyDelay (4 s) behind for as long as they go on.
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
            await router.UntilStateAsync(s => !s.Single(e => e.Name == fixture.DelayedReplica.Name).IsReadable, "the delayed replica is excluded for lag");
            var ports = new List<int>();
            for (var i = 0; i < 30; i++)
            {
                ports.Add(Assert.Single(await router.QueryAsync<int>(WhoAmI)));
            }

            Assert.DoesNotContain(fixture.DelayedReplica.Port, ports);
            Assert.Contains(fixture.FastReplica.Port, ports);
            Assert.True(router.State(fixture.DelayedReplica).LastStatus!.Value.ReplayLag > TimeSpan.FromSeconds(1.5));
        }
        finally
        {
            await writing.CancelAsync();
            await writer;
        }

        await router.UntilStateAsync(s => s.Single(e => e.Name == fixture.DelayedReplica.Name).IsReadable, "the delayed replica caught up and takes reads again");
    }

    [Fact]
    public async Task Read_your_writes_sees_the_write_at_once_where_an_eventual_read_on_the_delayed_replica_does_not()
    {
        // Only the delayed replica serves reads, so an eventual read right after the write is stale (4 s apply delay).
        await using var router = await Routers.StartAsync([fixture.Primary, fixture.DelayedReplica]);
        using var scope = router.BeginConsistencyScope();
        var id = fixture.NewId();

        await router.ExecuteAsync("INSERT INTO items VALUES (@id, 'mine')", new { id });
        var eventual = await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }, ReadConsistency.Eventual);
        var mine = new List<string?>();
        for (var i = 0; i < 10; i++)
        {
            mine.Add(await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }));
        }

        Assert.Null(eventual);
        Assert.All(mine, v => Assert.Equal("mine", v));
        Assert.True(Assert.IsType<PgPosition>(scope.WritePosition).Lsn > 0);
    }

    [Fact]
    public async Task Read_your_writes_uses_a_replica_once_it_has_replayed_the_write()
    {
        await using var router = await Routers.StartAsync([fixture.Primary, fixture.DelayedReplica]);
        using var scope = router.BeginConsistencyScope();
        var id = fixture.NewId();
        await router.ExecuteAsync("INSERT INTO items VALUES (@id, 'later')", new { id });
        Assert.Equal(fixture.Primary.Port, Assert.Single(await router.QueryAsync<int>(WhoAmI)));

        await router.UntilStateAsync(
            s => s.Single(e => e.Name == fixture.DelayedReplica.Name).LastStatus?.Position.CompareTo(scope.WritePosition!) == ReplicationPositionComparison.AtLeast,
            "the delayed replica replays the scope's write");

        Assert.Equal(fixture.DelayedReplica.Port, Assert.Single(await router.QueryAsync<int>(WhoAmI)));
        Assert.Equal("later", await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task The_reader_endpoint_as_a_DbDataSource_opens_on_a_replica_and_the_router_itself_on_the_writer()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);

        await using var reader = await router.Readers.OpenConnectionAsync();
        await using var writer = await router.OpenConnectionAsync();
        await using var readCommand = reader.CreateCommand();
        await using var writeCommand = writer.CreateCommand();
        readCommand.CommandText = writeCommand.CommandText = WhoAmI;

        Assert.Contains((int)(await readCommand.ExecuteScalarAsync())!, new[] { fixture.FastReplica.Port, fixture.DelayedReplica.Port });
        Assert.Equal(fixture.Primary.Port, (int)(await writeCommand.ExecuteScalarAsync())!);
        Assert.Equal(1, router.State(fixture.Primary).OutstandingConnections);
    }

    [Fact]
    public async Task A_connection_lost_during_a_write_is_unknown_and_one_lost_inside_a_transaction_before_commit_is_safe()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);
        var id = fixture.NewId();

        // The server ends the session in the middle of the statement, as a crash or failover would.
        var duringWrite = await Assert.ThrowsAsync<RoutingException>(async () =>
            await router.ExecuteAsync("SELECT pg_terminate_backend(pg_backend_pid())"));
        var beforeCommit = await Assert.ThrowsAsync<RoutingException>(async () =>
            await router.InTransactionAsync(async (connection, transaction, ct) =>
            {
                await Dapper.SqlMapper.ExecuteAsync(connection, "INSERT INTO items VALUES (@id, 'rolled back')", new { id }, transaction);
                return await Dapper.SqlMapper.ExecuteAsync(connection, "SELECT pg_terminate_backend(pg_backend_pid())", transaction: transaction);
            }));

        Assert.Equal(RetrySafety.Unknown, duringWrite.RetrySafety);
        Assert.False(duringWrite.IsSafeToRetry);
        Assert.Equal(fixture.Primary.Name, duringWrite.Endpoint);
        Assert.True(beforeCommit.IsSafeToRetry);
        Assert.Equal(0L, await fixture.Primary.ScalarAsync<long>($"SELECT count(*) FROM items WHERE id = {id}"));
        Assert.Equal(fixture.Primary.Port, await router.ExecuteScalarAsync<int>("SELECT inet_server_port()"));
    }

    [Fact]
    public async Task A_read_whose_connection_is_lost_is_retried_once_on_another_endpoint_then_reported_safe()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);

        var error = await Assert.ThrowsAsync<RoutingException>(async () =>
            await router.QueryAsync<bool>("SELECT pg_terminate_backend(pg_backend_pid())"));
        var next = await router.QueryAsync<int>(WhoAmI);

        Assert.True(error.IsSafeToRetry);
        Assert.NotNull(error.Endpoint);
        Assert.Contains(Assert.Single(next), new[] { fixture.FastReplica.Port, fixture.DelayedReplica.Port });
    }

    [Fact]
    public async Task Probes_have_their_own_connection_so_an_exhausted_application_pool_neither_delays_nor_ejects_an_endpoint()
    {
        // Application pools of one connection each, all held: a probe that needed one of them would wait for it, time out
        // and count as a failure (two rounds: ejected). It would also add connections to a pool that has room.
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes, o => o.ConfigureNpgsql = (_, builder) => builder.ConnectionStringBuilder.MaxPoolSize = 1);
        await using var writer = await router.OpenWriterConnectionAsync();
        await using var reader1 = await router.OpenReaderConnectionAsync();
        await using var reader2 = await router.OpenReaderConnectionAsync();
        Assert.All(router.GetEndpointStates(), s => Assert.Equal(1, s.OutstandingConnections));

        await router.RefreshAsync();
        await router.RefreshAsync();

        Assert.All(router.GetEndpointStates(), s => Assert.False(s.IsEjected, $"{s.Name} was ejected"));
        Assert.True(router.State(fixture.Primary).IsWriter);
        Assert.True(router.State(fixture.FastReplica).IsReadable);
        Assert.True(router.State(fixture.DelayedReplica).IsReadable);
    }

    [Fact]
    public async Task Strong_reads_go_to_the_writer()
    {
        await using var router = await Routers.StartAsync(fixture.Cluster.Nodes);

        var port = Assert.Single(await router.QueryAsync<int>(WhoAmI, consistency: ReadConsistency.Strong));

        Assert.Equal(fixture.Primary.Port, port);
    }
}
