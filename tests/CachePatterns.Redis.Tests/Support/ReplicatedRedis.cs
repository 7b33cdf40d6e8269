using System.Globalization;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>A primary and one replica (<c>--replicaof</c>), started once for the replica tests, linked before they run.</summary>
public sealed class ReplicatedRedis : IAsyncLifetime
{
    public RedisServer Primary { get; private set; } = null!;

    public RedisServer Replica { get; private set; } = null!;

    /// <summary>Both endpoints: StackExchange.Redis finds out which is the primary.</summary>
    public string Configuration => $"{Primary.Configuration},{Replica.Configuration}";

    public async Task InitializeAsync()
    {
        Primary = await RedisServer.StartAsync();
        Replica = await RedisServer.StartAsync("--replicaof", "127.0.0.1", Primary.Port.ToString(CultureInfo.InvariantCulture));
        await Wait.UntilAsync(
            async () => (await InfoAsync(Replica, "replication")).Contains("master_link_status:up", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30),
            "the replica is linked to the primary");
    }

    public async Task DisposeAsync()
    {
        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
    }

    public static async Task<string> InfoAsync(RedisServer server, string section) =>
        (string)(await server.Database.ExecuteAsync("INFO", section))!;

    /// <summary>Calls of one command on a server since its last CONFIG RESETSTAT (INFO commandstats).</summary>
    public static async Task<long> CallsAsync(RedisServer server, string command)
    {
        foreach (var line in (await InfoAsync(server, "commandstats")).Split('\n'))
        {
            if (line.StartsWith($"cmdstat_{command}:calls=", StringComparison.Ordinal))
            {
                var start = line.IndexOf('=', StringComparison.Ordinal) + 1;
                return long.Parse(line[start..line.IndexOf(',', start)], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicatedRedisGroup : ICollectionFixture<ReplicatedRedis>
{
    public const string Name = "redis-replicated";
}
