using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>
/// A 3-primary Redis Cluster made the way users make one: three <c>redis-server --cluster-enabled yes</c> on free
/// loopback ports (at most 55535: the bus listens on port + 10000), joined by <c>redis-cli --cluster create</c>,
/// used once it is usable (<see cref="RedisClusterReadiness"/>: <c>cluster_state:ok</c> and one slot map on every node,
/// a key of each primary written and read; polled, at most 30 s). The node timeout is long (2 minutes): on a saturated 2-core machine
/// a short one lets nodes mark each other failed and the cluster answers CLUSTERDOWN.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime, IRedisTarget
{
    private readonly List<RedisServer> _nodes = [];
    private int _instances;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    public string Configuration => string.Join(",", _nodes.Select(n => n.Configuration));

    public ConnectionMultiplexer Raw { get; private set; } = null!;

    public IDatabase Database => Raw.GetDatabase();

    public async Task InitializeAsync()
    {
        var cli = RedisServer.FindOnPath("redis-cli") ?? throw new InvalidOperationException(
            "redis-cli is not on PATH: it builds the test Cluster (Debian: apt-get install redis-tools).");
        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(await RedisServer.StartAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "120000"));
        }

        var create = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--cluster", "create" }.Concat(_nodes.Select(n => n.Configuration)).Concat(["--cluster-replicas", "0", "--cluster-yes"]))
        {
            create.ArgumentList.Add(arg);
        }

        using (var process = Process.Start(create)!)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000) || process.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed: {await output}{await error}");
            }
        }

        await RedisClusterReadiness.WaitUntilUsableAsync([.. _nodes.Select(n => n.Configuration)], TimeSpan.FromSeconds(30));
        Raw = await ConnectionMultiplexer.ConnectAsync(Configuration + ",allowAdmin=true");
        Assert.Equal(3, Raw.GetEndPoints().Length);
        Assert.Equal(ServerType.Cluster, Raw.GetServer(Raw.GetEndPoints()[0]).ServerType);
    }

    public RedisCacheProvider CreateProvider(Action<RedisCacheProviderOptions>? configure = null, string? instanceName = null)
    {
        var options = new RedisCacheProviderOptions { Configuration = Configuration, InstanceName = instanceName ?? NewInstanceName() };
        configure?.Invoke(options);
        return new RedisCacheProvider(Options.Create(options));
    }

    public string NewInstanceName() => $"c{Interlocked.Increment(ref _instances).ToString(CultureInfo.InvariantCulture)}:";

    public async Task DisposeAsync()
    {
        if (Raw is not null)
        {
            await Raw.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisClusterGroup : ICollectionFixture<RedisCluster>
{
    public const string Name = "redis-cluster";
}
