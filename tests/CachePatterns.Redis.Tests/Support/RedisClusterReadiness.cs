using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>
/// Waits until a Redis Cluster just made by <c>redis-cli --cluster create</c> is usable, polling (no fixed sleep) and
/// failing after a bound with the node and what it last answered. Usable means: every node's <c>CLUSTER INFO</c> says
/// <c>cluster_state:ok</c>; every node's <c>CLUSTER SLOTS</c> is the same map, covers the 16384 slots and gives slots to
/// each node; and a write, read and delete of a key in a slot of each primary succeed through a cluster-aware client.
/// <c>cluster_state:ok</c> alone is one node's view: another node can still disagree on the slot map, and a key sent
/// there is answered <c>CLUSTERDOWN</c> or <c>MOVED</c>. Shared as linked source by the test fixture
/// (<c>RedisCluster</c>) and the benchmarks' <c>RedisBenchCluster</c>, so it uses no test framework.
/// </summary>
public static class RedisClusterReadiness
{
    private const int SlotCount = 16384;

    /// <summary>
    /// Returns once the Cluster of <paramref name="nodes"/> (<c>host:port</c> of every primary) is usable; throws
    /// <see cref="TimeoutException"/> naming the node and its last answer when it is not within <paramref name="timeout"/>.
    /// </summary>
    public static async Task WaitUntilUsableAsync(IReadOnlyList<string> nodes, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        // abortConnect=false: a node that does not answer yet is reported by the loop below (named, bounded), not by
        // ConnectAsync; 2 s timeouts keep a hung node from stretching the bound by much.
        await using var client = await ConnectionMultiplexer.ConnectAsync(
            string.Join(",", nodes) + ",allowAdmin=true,abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000");
        while (await FirstProblemAsync(client, nodes) is { } problem)
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"The Redis Cluster {string.Join(", ", nodes)} was not usable after {timeout.TotalSeconds:0.#} s: {problem}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>What keeps the Cluster from being usable now (a node and its answer), or null when nothing does.</summary>
    private static async Task<string?> FirstProblemAsync(ConnectionMultiplexer client, IReadOnlyList<string> nodes)
    {
        List<SlotRange>? agreed = null;
        foreach (var node in nodes)
        {
            var server = client.GetServer(node);
            try
            {
                var info = (string?)await server.ExecuteAsync("CLUSTER", "INFO") ?? string.Empty;
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    return $"node {node} answered CLUSTER INFO with {StateOf(info)}";
                }

                var map = ReadSlots(await server.ExecuteAsync("CLUSTER", "SLOTS"));
                if (agreed is null)
                {
                    agreed = map;
                    var covered = map.Sum(r => r.End - r.Start + 1);
                    var owners = map.Select(r => r.Owner).ToHashSet(StringComparer.Ordinal);
                    if (covered != SlotCount || !owners.SetEquals(nodes))
                    {
                        return $"node {node} answered CLUSTER SLOTS with {Describe(map)} ({covered} slots; every node should own some of the {SlotCount})";
                    }
                }
                else if (!map.SequenceEqual(agreed))
                {
                    return $"node {node} answered CLUSTER SLOTS with {Describe(map)}, node {nodes[0]} with {Describe(agreed)}";
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return $"node {node} did not answer CLUSTER INFO / CLUSTER SLOTS ({e.GetType().Name}: {e.Message})";
            }
        }

        var database = client.GetDatabase();
        foreach (var node in nodes)
        {
            var key = KeyOwnedBy(client, agreed!, node);
            var value = Guid.NewGuid().ToString("N");
            try
            {
                if (!await database.StringSetAsync(key, value, TimeSpan.FromMinutes(1)) || (string?)await database.StringGetAsync(key) != value)
                {
                    return $"node {node}: {key} (slot {client.HashSlot(key).ToString(CultureInfo.InvariantCulture)}) did not read back what was written";
                }

                await database.KeyDeleteAsync(key);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return $"node {node}: writing and reading {key} (slot {client.HashSlot(key).ToString(CultureInfo.InvariantCulture)}) failed ({e.GetType().Name}: {e.Message})";
            }
        }

        return null;
    }

    /// <summary>A key whose slot <paramref name="node"/> owns in <paramref name="map"/>.</summary>
    private static string KeyOwnedBy(ConnectionMultiplexer client, List<SlotRange> map, string node)
    {
        for (var i = 0; ; i++)
        {
            var key = "cluster-ready:" + i.ToString(CultureInfo.InvariantCulture);
            var slot = client.HashSlot(key);
            if (map.Any(r => r.Owner == node && r.Start <= slot && slot <= r.End))
            {
                return key;
            }
        }
    }

    /// <summary>The slot ranges of a <c>CLUSTER SLOTS</c> reply with their primary (<c>ip:port</c>), in slot order.</summary>
    private static List<SlotRange> ReadSlots(RedisResult reply)
    {
        var ranges = new List<SlotRange>();
        foreach (var row in (RedisResult[]?)reply ?? [])
        {
            var fields = (RedisResult[])row!;
            var primary = (RedisResult[])fields[2]!;
            ranges.Add(new SlotRange((int)fields[0], (int)fields[1], $"{(string?)primary[0]}:{((int)primary[1]).ToString(CultureInfo.InvariantCulture)}"));
        }

        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        return ranges;
    }

    private static string Describe(List<SlotRange> map) =>
        map.Count == 0 ? "no slots" : string.Join(" ", map.Select(r => $"{r.Start}-{r.End}@{r.Owner}"));

    /// <summary>The lines of <c>CLUSTER INFO</c> that say why a node is not ok (RESP3 sends it as a <c>txt:</c> verbatim string).</summary>
    private static string StateOf(string info) => string.Join(
        " ",
        (info.StartsWith("txt:", StringComparison.Ordinal) ? info[4..] : info)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("cluster_state:", StringComparison.Ordinal)
                || l.StartsWith("cluster_slots_", StringComparison.Ordinal)
                || l.StartsWith("cluster_known_nodes:", StringComparison.Ordinal)));

    private readonly record struct SlotRange(int Start, int End, string Owner);
}
