using System.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using StackExchange.Redis;

namespace CachePatterns.Benchmarks;

/// <summary>
/// A throw-away 3-primary Redis Cluster on loopback, made as the tests make theirs (tests/CachePatterns.Redis.Tests/Support/RedisCluster.cs):
/// three <c>redis-server --cluster-enabled yes</c>, joined by <c>redis-cli --cluster create</c>, used once it is usable
/// (the tests' <see cref="RedisClusterReadiness"/>, linked source). Killed on dispose.
/// </summary>
public sealed class RedisBenchCluster : IDisposable
{
    private readonly List<RedisBenchServer> _nodes = [];
    private ConnectionMultiplexer? _raw;

    private RedisBenchCluster()
    {
    }

    public string Configuration => string.Join(",", _nodes.Select(n => n.Configuration));

    public static async Task<RedisBenchCluster> StartAsync()
    {
        var cluster = new RedisBenchCluster();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                cluster._nodes.Add(RedisBenchServer.Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "120000"));
            }

            var create = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "--cluster", "create" }.Concat(cluster._nodes.Select(n => n.Configuration)).Concat(["--cluster-replicas", "0", "--cluster-yes"]))
            {
                create.ArgumentList.Add(arg);
            }

            using (var process = Process.Start(create) ?? throw new InvalidOperationException("redis-cli did not start (apt-get install redis-tools)."))
            {
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(60_000) || process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"redis-cli --cluster create failed: {await output}{await error}");
                }
            }

            await RedisClusterReadiness.WaitUntilUsableAsync([.. cluster._nodes.Select(n => n.Configuration)], TimeSpan.FromSeconds(30));

            cluster._raw = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Which node (0, 1, 2 in start order) holds <paramref name="key"/>'s slot.</summary>
    public int NodeOf(string key)
    {
        var raw = _raw ?? throw new InvalidOperationException("The cluster is not started.");
        var owner = raw.GetServer(raw.GetEndPoints()[0]).ClusterConfiguration?.GetBySlot(raw.HashSlot(key))
            ?? throw new InvalidOperationException($"No node owns the slot of {key}.");
        return _nodes.FindIndex(n => owner.EndPoint is { } endPoint && n.Configuration == Format(endPoint));
    }

    private static string Format(System.Net.EndPoint endPoint) => endPoint switch
    {
        System.Net.IPEndPoint ip => $"{ip.Address}:{ip.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        _ => endPoint.ToString() ?? string.Empty,
    };

    public void Dispose()
    {
        _raw?.Dispose();
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }
}
