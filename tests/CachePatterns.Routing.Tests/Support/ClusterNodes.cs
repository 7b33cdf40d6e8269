namespace CachePatterns.Routing.Tests.Support;

/// <summary>
/// A running cluster the shared routing tests use: a primary, a replica that applies at once, a replica that applies
/// <see cref="ApplyDelay"/> late, table <c>items(id, value)</c> on all of them, and the engine's SQL for what differs.
/// </summary>
public interface IRoutingCluster
{
    /// <summary>Gets how late the delayed replica applies what the primary wrote.</summary>
    TimeSpan ApplyDelay { get; }

    RoutingEngine Engine { get; }

    IClusterNode Primary { get; }

    IClusterNode FastReplica { get; }

    IClusterNode DelayedReplica { get; }

    /// <summary>Gets an expression for the port of the server that evaluates it (<c>SELECT {PortExpression}</c>).</summary>
    string PortExpression { get; }

    /// <summary>Gets a statement that inserts or replaces the row <c>@key</c> of <c>items</c> with <c>@value</c>.</summary>
    string Upsert { get; }

    /// <summary>A key no other test uses.</summary>
    long NewId();

    /// <summary>Waits until both replicas have applied everything the primary wrote so far.</summary>
    Task WaitForReplicasAsync();
}

/// <summary>The shared PostgreSQL cluster as an <see cref="IRoutingCluster"/>.</summary>
public sealed class PgRoutingCluster(ClusterFixture fixture) : IRoutingCluster
{
    public TimeSpan ApplyDelay => ClusterFixture.ApplyDelay;

    public RoutingEngine Engine => RoutingEngine.PostgreSql;

    public IClusterNode Primary { get; } = new PgClusterNode(fixture.Primary);

    public IClusterNode FastReplica { get; } = new PgClusterNode(fixture.FastReplica);

    public IClusterNode DelayedReplica { get; } = new PgClusterNode(fixture.DelayedReplica);

    public string PortExpression => "inet_server_port()";

    public string Upsert => "INSERT INTO items VALUES (@key, @value) ON CONFLICT (id) DO UPDATE SET value = excluded.value";

    public long NewId() => fixture.NewId();

    public Task WaitForReplicasAsync() => fixture.Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

    private sealed class PgClusterNode(PgNode node) : IClusterNode
    {
        public string Name => node.Name;

        public int Port => node.Port;

        public string ConnectionString => node.ConnectionString;

        public Task ExecuteAsync(string sql) => node.ExecuteAsync(sql);

        public Task<T> ScalarAsync<T>(string sql) => node.ScalarAsync<T>(sql);
    }
}

/// <summary>Routers over any engine's test nodes, probing fast so the tests do not wait long for what the probes find.</summary>
public static class EngineRouters
{
    public static RoutingOptions Options(RoutingEngine engine, IEnumerable<IClusterNode> nodes, Action<RoutingOptions>? configure = null)
    {
        var options = new RoutingOptions
        {
            Engine = engine,
            ProbeInterval = TimeSpan.FromMilliseconds(200),
            ProbeTimeout = TimeSpan.FromSeconds(3),
            FailuresBeforeEjection = 2,
        };
        foreach (var node in nodes)
        {
            options.Endpoints.Add(new RoutingEndpointOptions { Name = node.Name, ConnectionString = node.ConnectionString });
        }

        configure?.Invoke(options);
        return options;
    }

    public static async Task<RoutingDataSource> StartAsync(RoutingEngine engine, IEnumerable<IClusterNode> nodes, Action<RoutingOptions>? configure = null)
    {
        var router = new RoutingDataSource(Options(engine, nodes, configure));
        await router.RefreshAsync();
        return router;
    }

    public static RoutingEndpointState State(this RoutingDataSource router, IClusterNode node) =>
        router.GetEndpointStates().Single(s => s.Name == node.Name);
}

/// <summary>The loader and writer of <c>items</c> through the router in any engine's SQL, as an application would write them.</summary>
public sealed class EngineItemRepository(RoutingDataSource router, IRoutingCluster cluster) : ICacheLoader<long, string>, ICacheWriter<long, string>
{
    public async ValueTask<LoadResult<string>> LoadAsync(long key, CancellationToken cancellationToken)
    {
        var value = await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @key", new { key }, cancellationToken: cancellationToken);
        return value is null ? LoadResult.NotFound<string>() : LoadResult.Found(value);
    }

    public async ValueTask WriteAsync(long key, string value, CancellationToken cancellationToken) =>
        await router.ExecuteAsync(cluster.Upsert, new { key, value }, cancellationToken);

    public async ValueTask DeleteAsync(long key, CancellationToken cancellationToken) =>
        await router.ExecuteAsync("DELETE FROM items WHERE id = @key", new { key }, cancellationToken);
}
