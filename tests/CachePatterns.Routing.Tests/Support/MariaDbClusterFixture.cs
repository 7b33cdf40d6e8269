namespace CachePatterns.Routing.Tests.Support;

/// <summary>
/// The MariaDB cluster shared by the tests that do not break it: a primary, a replica that applies at once, and a replica
/// that applies <see cref="Delay"/> late (<c>MASTER_DELAY</c>). Table <c>items(id, value)</c>.
/// </summary>
public sealed class MariaDbClusterFixture : IAsyncLifetime, IRoutingCluster
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(4);
    private MariaDbCluster? _cluster;
    private long _nextId;

    public MariaDbCluster Cluster => _cluster!;

    public TimeSpan ApplyDelay => Delay;

    public RoutingEngine Engine => RoutingEngine.MySql;

    public IClusterNode Primary => Cluster.Nodes[0];

    public IClusterNode FastReplica => Cluster.Nodes[1];

    public IClusterNode DelayedReplica => Cluster.Nodes[2];

    public string PortExpression => "@@port";

    public string Upsert => "INSERT INTO items VALUES (@key, @value) ON DUPLICATE KEY UPDATE value = VALUES(value)";

    public long NewId() => Interlocked.Increment(ref _nextId);

    public Task WaitForReplicasAsync() => Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

    public async Task InitializeAsync()
    {
        _cluster = await MariaDbCluster.StartAsync(TimeSpan.Zero, Delay);
        await Cluster.Primary.ExecuteAsync("CREATE TABLE items (id BIGINT PRIMARY KEY, value VARCHAR(255) NOT NULL)");
        await Cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SharedMariaDbCluster : ICollectionFixture<MariaDbClusterFixture>
{
    public const string Name = "MariaDB cluster";
}
