using System.Globalization;
using CachePatterns.Routing.Tests.Support;

namespace SessionStore.Tests.Support;

/// <summary>
/// Two SessionStore instances on PostgreSQL with replicas (through the read/write router) and one Redis. The cluster has a
/// primary, a replica that replays at once and one that replays <see cref="ApplyDelay"/> late. Instance A is given the
/// primary and the <b>delayed</b> replica (its only reader, readable despite the lag: <c>MaxReplicaLag</c> one minute), B
/// the primary and the prompt replica, so each replica's own statistics count one instance's reads.
/// </summary>
public sealed class PgStoreCluster : IAsyncLifetime
{
    public static readonly TimeSpan ApplyDelay = TimeSpan.FromSeconds(4);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionstore-pg-tests-" + Guid.NewGuid().ToString("N"));

    public PgCluster Postgres { get; private set; } = null!;

    public PgNode Primary => Postgres.Nodes[0];

    public PgNode PromptReplica => Postgres.Nodes[1];

    public PgNode DelayedReplica => Postgres.Nodes[2];

    public RedisServer Redis { get; private set; } = null!;

    public AppInstance A { get; private set; } = null!;

    public AppInstance B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var postgres = PgCluster.StartAsync(TimeSpan.Zero, ApplyDelay);
        Redis = await RedisServer.StartAsync(Path.Combine(_directory, "redis"));
        Postgres = await postgres;
        A = await AppInstance.StartAsync("A", Switches("a", DelayedReplica));
        B = await AppInstance.StartAsync("B", Switches("b", PromptReplica));

        // The schema A created must be on the replicas before the tests read there (a brand-new table on a replica 4 s
        // behind would not be there yet).
        await Postgres.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
    }

    private string[] Switches(string instance, PgNode replica) =>
    [
        "--postgres", ConnectionString(instance, replica),
        "--SessionStore:Database:MaxReplicaLag", "00:01:00",
        "--redis", Redis.Configuration,
        "--keys", Path.Combine(_directory, "keys"),
    ];

    /// <summary>The primary and one replica; the application name tells the servers which instance is connected.</summary>
    public string ConnectionString(string instance, PgNode replica) =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1:{Primary.Port},127.0.0.1:{replica.Port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=15;Application Name=sessionstore-{instance}");

    /// <summary>Scans of <c>products</c> and <c>users</c> that ran on <paramref name="node"/>, from its own statistics.</summary>
    public static Task<long> TableReadsAsync(PgNode node) => node.ScalarAsync<long>(
        "SELECT COALESCE(sum(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0)::bigint FROM pg_stat_user_tables WHERE relname IN ('products', 'users')");

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { A, B })
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PgStoreClusterGroup : ICollectionFixture<PgStoreCluster>
{
    public const string Name = "two instances on PostgreSQL with replicas";
}
