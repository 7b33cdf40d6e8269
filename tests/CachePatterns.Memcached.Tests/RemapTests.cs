using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// <see cref="MemcachedCacheProviderOptions.RemapDeadNodes"/>: a dead node's keys move to the other nodes and hit there
/// once refilled; when the node answers again it is emptied and put back, so nothing it held before is read.
/// </summary>
public sealed class RemapTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Keys = 300;

    [Fact]
    public async Task Killed_node_under_load_its_keys_hit_on_the_other_nodes_after_refill_and_it_comes_back_into_the_ring()
    {
        fixture.EnsureRunning();
        var database = new Rows();
        await using var services = Build(database, $"r{Guid.NewGuid():N}:");
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        var client = ((MemcachedCacheProvider)services.GetRequiredKeyedService<CachePatterns.Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName)).Client;
        var victim = fixture.Servers[1];
        var victimNode = client.Nodes.Single(n => n.Name == victim.Address);
        var onVictim = Enumerable.Range(0, Keys).Where(k => client.HomeNodeFor(client.EncodeKey("String:" + k)) == victimNode).ToArray();
        Assert.InRange(onVictim.Length, 30, 200);

        var exceptions = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var key = Random.Shared.Next(Keys);
                try
                {
                    Assert.Equal(database.Read(key), await strategy.GetAsync(key));
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref exceptions);
                }
            }
        })).ToArray();

        await Poll.UntilAsync(() => database.Loads >= Keys / 2, "the load to fill the cache");
        victim.Kill();
        try
        {
            await Poll.UntilAsync(() => victimNode.IsDead, "the killed node to be marked dead");
            await stop.CancelAsync();
            await Task.WhenAll(load);

            // The victim's keys now live on the other nodes: one refill, then hits.
            Assert.All(onVictim, k => Assert.NotEqual(victimNode, client.NodeFor(client.EncodeKey("String:" + k))));
            foreach (var key in onVictim)
            {
                Assert.Equal(database.Read(key), await strategy.GetAsync(key));
            }

            var loadsAfterRefill = database.Loads;
            foreach (var key in onVictim)
            {
                Assert.Equal(database.Read(key), await strategy.GetAsync(key));
            }

            Assert.Equal(loadsAfterRefill, database.Loads);

            // Copies on stand-in nodes are short-lived (RemappedEntryTimeToLive, 1 minute), whatever the strategy's expiration.
            Assert.InRange((await client.GetAsync("String:" + onVictim[0], "t", default)).Ttl, 1, 61);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
            victim.Start();
        }

        // Back: probed, emptied, and its keys route to it again (a miss, then a hit there).
        await Poll.UntilAsync(() => !victimNode.IsDead, "the restarted node to be put back");
        Assert.All(onVictim, k => Assert.Equal(victimNode, client.NodeFor(client.EncodeKey("String:" + k))));
        var before = database.Loads;
        Assert.Equal(database.Read(onVictim[0]), await strategy.GetAsync(onVictim[0]));
        Assert.Equal(database.Read(onVictim[0]), await strategy.GetAsync(onVictim[0]));
        Assert.Equal(before + 1, database.Loads);
        Assert.True(exceptions == 0, $"{exceptions} exceptions reached callers");
    }

    [Fact]
    public async Task Node_that_returns_with_old_entries_is_emptied_before_use_so_no_stale_value_is_read()
    {
        fixture.EnsureRunning();
        var database = new Rows();
        await using var services = Build(database, $"s{Guid.NewGuid():N}:");
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        var client = ((MemcachedCacheProvider)services.GetRequiredKeyedService<CachePatterns.Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName)).Client;
        var victim = fixture.Servers[2];
        var victimNode = client.Nodes.Single(n => n.Name == victim.Address);
        var key = Enumerable.Range(0, Keys).First(k => client.HomeNodeFor(client.EncodeKey("String:" + k)) == victimNode);
        Assert.Equal("row-0", await strategy.GetAsync(key)); // cached on the victim

        // Frozen, not killed: it keeps its entries. Its key is remapped, and changed in the database meanwhile.
        victim.Signal("STOP");
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    await strategy.GetAsync(key);
                    return victimNode.IsDead;
                },
                "the frozen node to be marked dead");
            database.Write(key);
            await strategy.InvalidateAsync(key); // reaches the stand-in node, not the frozen one
            Assert.Equal("row-1", await strategy.GetAsync(key));
        }
        finally
        {
            victim.Signal("CONT");
        }

        await Poll.UntilAsync(() => !victimNode.IsDead, "the thawed node to be put back");
        Assert.Equal(victimNode, client.NodeFor(client.EncodeKey("String:" + key)));
        Assert.Equal("row-1", await strategy.GetAsync(key));
    }

    private ServiceProvider Build(Rows database, string prefix) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = prefix;
                o.RemapDeadNodes = true;
                o.FailuresBeforeDead = 2;
                o.OperationTimeout = TimeSpan.FromMilliseconds(500);
                o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
                o.DeadNodeProbeInterval = TimeSpan.FromMilliseconds(200);
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();

    /// <summary>Rows whose version changes on write; counts loads.</summary>
    private sealed class Rows : ICacheLoader<int, string>
    {
        private readonly int[] _versions = new int[Keys];
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public string Read(int key) => $"row-{Volatile.Read(ref _versions[key])}";

        public void Write(int key) => Interlocked.Increment(ref _versions[key]);

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads);
            return ValueTask.FromResult(LoadResult.Found(Read(key)));
        }
    }
}
