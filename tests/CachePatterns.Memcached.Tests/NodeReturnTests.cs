using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Two clients (as two processes would: separate providers, connections and node states) over three nodes: A writes,
/// B reads. A node that returns after a kill or a pause is not served stale by B while A could not invalidate it.
/// A probes its dead node only when it writes (its probe timer is a minute), so nothing but the fix can revive it.
/// </summary>
public sealed class NodeReturnTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Keys = 300;

    [Fact]
    public async Task Restarted_node_the_writer_still_thinks_dead_is_not_served_stale_to_the_reader()
    {
        fixture.EnsureRunning();
        var database = new Rows();
        var prefix = $"n{Guid.NewGuid():N}:";
        await using var a = Build(database, prefix, TimeSpan.FromMinutes(1));
        await using var b = Build(database, prefix, TimeSpan.FromMilliseconds(100));
        var (writer, reader) = (Strategy(a), Strategy(b));
        var victim = fixture.Servers[0];
        var (aNode, bNode) = (Node(a, victim), Node(b, victim));
        var keys = KeysOn(a, aNode);
        var changes = RecordChanges(b);

        foreach (var key in keys)
        {
            Assert.Equal(database.Read(key), await reader.GetAsync(key));
        }

        victim.Kill();
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    await writer.GetAsync(keys[0]);
                    await reader.GetAsync(keys[0]);
                    return aNode.IsDead && bNode.IsDead;
                },
                "both clients to mark the killed node dead");
        }
        finally
        {
            victim.Start();
        }

        // B finds the node back (empty) and refills it; A still thinks it dead.
        await Poll.UntilAsync(() => !bNode.IsDead, "the reader to put the restarted node back");
        foreach (var key in keys)
        {
            Assert.Equal(database.Read(key), await reader.GetAsync(key));
        }

        Assert.True(aNode.IsDead);

        // A writes every key: each read B begins after A's write finished must see it.
        var stale = 0;
        foreach (var key in keys)
        {
            database.Write(key);
            await writer.InvalidateAsync(key);
            if (await reader.GetAsync(key) != database.Read(key))
            {
                stale++;
            }
        }

        Assert.True(stale == 0, $"{stale} of {keys.Length} reads returned a row older than a finished write");
        Assert.False(aNode.IsDead);
        Assert.Contains((victim.Address, CacheConnectionState.Lost), changes);
        Assert.Equal((victim.Address, CacheConnectionState.Restored), changes.Last(c => c.Node == victim.Address));
    }

    [Fact]
    public async Task Paused_node_that_kept_old_entries_is_emptied_before_anyone_reads_it_again()
    {
        fixture.EnsureRunning();
        var database = new Rows();
        var prefix = $"p{Guid.NewGuid():N}:";
        await using var a = Build(database, prefix, TimeSpan.FromMinutes(1));
        await using var b = Build(database, prefix, TimeSpan.FromMilliseconds(100));
        var (writer, reader) = (Strategy(a), Strategy(b));
        var victim = fixture.Servers[1];
        var (aNode, bNode) = (Node(a, victim), Node(b, victim));
        var keys = KeysOn(a, aNode);
        foreach (var key in keys)
        {
            Assert.Equal(database.Read(key), await reader.GetAsync(key));
        }

        victim.Signal("STOP");
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    await Task.WhenAll(writer.GetAsync(keys[0]).AsTask(), reader.GetAsync(keys[0]).AsTask());
                    return aNode.IsDead && bNode.IsDead;
                },
                "both clients to mark the paused node dead");

            // A changes every key while the node is paused: its invalidations cannot reach it.
            foreach (var key in keys)
            {
                database.Write(key);
                await writer.InvalidateAsync(key);
            }
        }
        finally
        {
            victim.Signal("CONT");
        }

        // The node resumes with every old entry. B puts it back (emptied) and must read only the new rows.
        await Poll.UntilAsync(() => !bNode.IsDead, "the reader to put the resumed node back");
        var stale = 0;
        foreach (var key in keys)
        {
            if (await reader.GetAsync(key) != database.Read(key))
            {
                stale++;
            }
        }

        Assert.True(stale == 0, $"{stale} of {keys.Length} reads returned a row A had changed while the node was paused");

        // A's next write revives A's view of the node too (its probe timer would take a minute).
        database.Write(keys[0]);
        await writer.InvalidateAsync(keys[0]);
        await Poll.UntilAsync(() => !aNode.IsDead, "the writer's next write to put the node back", TimeSpan.FromSeconds(10));
        Assert.Equal(database.Read(keys[0]), await reader.GetAsync(keys[0]));
    }

    private static ICacheStrategy<int, string> Strategy(ServiceProvider services) => services.GetRequiredService<ICacheStrategy<int, string>>();

    private static MemcachedCacheProvider Provider(ServiceProvider services) =>
        (MemcachedCacheProvider)services.GetRequiredKeyedService<ICacheProvider>(CachePatternsBuilder.DefaultCacheName);

    private static MemcachedNode Node(ServiceProvider services, MemcachedProcess server) => Provider(services).Client.Nodes.Single(n => n.Name == server.Address);

    private static int[] KeysOn(ServiceProvider services, MemcachedNode node)
    {
        var client = Provider(services).Client;
        return Enumerable.Range(0, Keys).Where(k => client.HomeNodeFor(client.EncodeKey("String:" + k)).Name == node.Name).ToArray();
    }

    private static List<(string? Node, CacheConnectionState State)> RecordChanges(ServiceProvider services)
    {
        var changes = new List<(string?, CacheConnectionState)>();
        ((ICacheProvider)Provider(services)).ConnectionChanged += (_, e) =>
        {
            lock (changes)
            {
                changes.Add((e.Node, e.State));
            }
        };
        return changes;
    }

    private ServiceProvider Build(Rows database, string prefix, TimeSpan probeInterval) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = prefix;
                o.FailuresBeforeDead = 2;
                o.OperationTimeout = TimeSpan.FromMilliseconds(300);
                o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
                o.DeadNodeProbeInterval = probeInterval;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();

    /// <summary>Rows whose version changes on write.</summary>
    private sealed class Rows : ICacheLoader<int, string>
    {
        private readonly int[] _versions = new int[Keys];

        public string Read(int key) => $"row-{Volatile.Read(ref _versions[key])}";

        public void Write(int key) => Interlocked.Increment(ref _versions[key]);

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.Found(Read(key)));
    }
}
