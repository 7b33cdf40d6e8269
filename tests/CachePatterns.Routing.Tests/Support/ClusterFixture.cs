namespace CachePatterns.Routing.Tests.Support;

/// <summary>
/// The cluster shared by the tests that do not break it: a primary, a replica that replays at once, and a replica that
/// replays <see cref="ApplyDelay"/> late. Table <c>items(id, value)</c>.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan ApplyDelay = TimeSpan.FromSeconds(4);
    private PgCluster? _cluster;
    private long _nextId;

    public PgCluster Cluster => _cluster!;

    public PgNode Primary => Cluster.Nodes[0];

    public PgNode FastReplica => Cluster.Nodes[1];

    public PgNode DelayedReplica => Cluster.Nodes[2];

    /// <summary>A key no other test uses.</summary>
    public long NewId() => Interlocked.Increment(ref _nextId);

    public async Task InitializeAsync()
    {
        _cluster = await PgCluster.StartAsync(TimeSpan.Zero, ApplyDelay);
        await Primary.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, value text NOT NULL)");
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
public sealed class SharedCluster : ICollectionFixture<ClusterFixture>
{
    public const string Name = "PostgreSQL cluster";
}
