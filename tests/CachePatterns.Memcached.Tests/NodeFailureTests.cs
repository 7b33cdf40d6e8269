using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>Killing one of three nodes under load: callers see no exception, and the other nodes keep serving hits.</summary>
public sealed class NodeFailureTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Keys = 300;

    [Fact]
    public async Task Killing_one_node_under_load_throws_nothing_and_the_other_nodes_still_hit()
    {
        fixture.EnsureRunning();
        var prefix = $"f{Guid.NewGuid():N}:";
        var loads = new int[Keys];
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = prefix;
                o.OperationTimeout = TimeSpan.FromSeconds(2);
            })

            // Keep the core's timeout above the client's (see MemcachedCacheProviderOptions.OperationTimeout): on a saturated
            // machine a slow call on a live node must not count as a provider failure and open the circuit for all nodes.
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new CountingLoader(loads), configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();

        var exceptions = 0;
        var errors = new List<string>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var key = Random.Shared.Next(Keys);
                try
                {
                    Assert.Equal($"row-{key}", await strategy.GetAsync(key));
                    if (Random.Shared.Next(50) == 0)
                    {
                        await strategy.InvalidateAsync(key);
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref exceptions);
                    lock (errors)
                    {
                        errors.Add(ex.Message);
                    }
                }
            }
        })).ToArray();

        await Task.Delay(1000);
        var victim = fixture.Servers[2];
        victim.Kill();
        try
        {
            await Task.Delay(1500);
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            // Which keys live where: the surviving nodes' keys must hit (no load), the dead node's keys load every time.
            using var probe = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = prefix)));
            var onVictim = Enumerable.Range(0, Keys)
                .Where(k => probe.Client.NodeFor(probe.Client.EncodeKey("String:" + k)).Name == victim.Address)
                .ToHashSet();
            Assert.InRange(onVictim.Count, 30, 200);
            foreach (var key in Enumerable.Range(0, Keys))
            {
                await strategy.GetAsync(key); // make sure every surviving key is filled
            }

            var before = (int[])loads.Clone();
            for (var pass = 0; pass < 3; pass++)
            {
                foreach (var key in Enumerable.Range(0, Keys).Where(k => !onVictim.Contains(k)))
                {
                    Assert.Equal($"row-{key}", await strategy.GetAsync(key));
                }
            }

            var reloadedSurvivors = Enumerable.Range(0, Keys).Count(k => !onVictim.Contains(k) && loads[k] > before[k]);
            Assert.True(reloadedSurvivors == 0, $"{reloadedSurvivors} keys on live nodes were loaded again");

            var victimKey = onVictim.First();
            var beforeVictim = loads[victimKey];
            await strategy.GetAsync(victimKey);
            await strategy.GetAsync(victimKey);
            Assert.True(loads[victimKey] >= beforeVictim + 2, "a dead node's key is loaded on every read");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            victim.Start();
        }

        Assert.True(exceptions == 0, $"{exceptions} exceptions reached callers: {string.Join(" | ", errors.Distinct().Take(5))}");
    }

    [Fact]
    public async Task Frozen_node_with_default_options_is_closed_marked_dead_and_then_costs_nothing()
    {
        using var server = new MemcachedProcess();
        var loads = new int[Keys];
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o => o.Servers.Add(server.Address))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new CountingLoader(loads), configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("row-1", await strategy.GetAsync(1));
        var provider = (MemcachedCacheProvider)services.GetRequiredKeyedService<CachePatterns.Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
        var node = provider.Client.Nodes[0];

        server.Signal("STOP");
        try
        {
            // The provider's own timeout (250 ms) fires before the resilience layer's (500 ms): the connection is
            // closed and the failure counted, so the node is marked dead after three of them.
            for (var key = 2; key < 12 && !node.IsDead; key++)
            {
                Assert.Equal($"row-{key}", await strategy.GetAsync(key));
            }

            Assert.True(node.IsDead, "a frozen node was never marked dead");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal("row-50", await strategy.GetAsync(50));
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(200), $"a read of a dead node's key took {watch.Elapsed}");
        }
        finally
        {
            server.Signal("CONT");
        }
    }

    private sealed class CountingLoader(int[] loads) : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref loads[key]);
            return ValueTask.FromResult(LoadResult.Found($"row-{key}"));
        }
    }
}
