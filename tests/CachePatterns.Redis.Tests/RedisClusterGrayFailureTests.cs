using System.Diagnostics;
using System.Globalization;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// A hung (SIGSTOPped) primary of the 3-primary Cluster under load: only its keys skip the cache (issue 10, per-node
/// detection). Bounds are generous (the machine is shared).
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterGrayFailureTests(RedisCluster cluster)
{
    private const int Keys = 300;

    [Fact]
    public async Task A_hung_cluster_node_fails_only_its_own_keys_fast_and_the_other_nodes_keep_serving_hits()
    {
        var instance = cluster.NewInstanceName();
        var database = new FakeDatabase();
        for (var k = 0; k < Keys; k++)
        {
            database.Seed(k, $"r0-{k}");
        }

        var loader = new CountingLoader(database);
        var logs = new FakeLogCollector();
        await using var services = new ServiceCollection()
            .AddMetrics()
            .AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Information))
            .AddCachePatterns()
            .UseProvider(sp => new RedisCacheProvider(
                Options.Create(new RedisCacheProviderOptions { Configuration = cluster.Configuration + ",connectTimeout=1000", InstanceName = instance }),
                sp.GetService<ILogger<RedisCacheProvider>>()))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader, _ => database, o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        for (var k = 0; k < Keys; k++)
        {
            await strategy.GetAsync(k);
        }

        // The keys the victim primary owns (same slot as the provider's hash-tagged value key).
        var victim = cluster.Nodes[0];
        var onVictim = new bool[Keys];
        for (var k = 0; k < Keys; k++)
        {
            var endpoint = cluster.Raw.GetServer(new RedisKey($"{{{instance}String:{k}}}")).EndPoint;
            onVictim[k] = endpoint.ToString()!.EndsWith(":" + victim.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        var victimKeys = onVictim.Count(v => v);
        Assert.InRange(victimKeys, Keys / 6, Keys / 2);

        var clock = Stopwatch.StartNew();
        var calls = new List<(int Key, double StartMs, double Ms)>[16];
        var failures = new List<Exception>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, calls.Length).Select(w => Task.Run(async () =>
        {
            calls[w] = new List<(int, double, double)>(100_000);
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                await Task.Yield();
                var key = random.Next(Keys);
                var start = clock.Elapsed.TotalMilliseconds;
                try
                {
                    Assert.Equal($"r0-{key}", await strategy.GetAsync(key));
                }
                catch (Exception ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }
                }

                calls[w].Add((key, start, clock.Elapsed.TotalMilliseconds - start));
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var pausedAt = clock.Elapsed.TotalMilliseconds;
        victim.Pause();
        int[] healthyLoadsAt1s;
        int[] healthyLoadsAtResume;
        double resumedAt;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            healthyLoadsAt1s = loader.Snapshot();
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            healthyLoadsAtResume = loader.Snapshot();
        }
        finally
        {
            victim.Resume();
            resumedAt = clock.Elapsed.TotalMilliseconds;
        }

        // The hung node's keys are cached again: one of them read twice is loaded at most once.
        var hungKey = Array.IndexOf(onVictim, true);
        await Wait.UntilAsync(
            async () =>
            {
                await strategy.GetAsync(hungKey);
                var loads = loader.LoadsOf(hungKey);
                await strategy.GetAsync(hungKey);
                return loader.LoadsOf(hungKey) == loads;
            },
            TimeSpan.FromSeconds(10),
            "the hung node's keys are cached again after SIGCONT");
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        Assert.Empty(failures);

        // From one second into the hang: the other nodes' keys are hits (loaded at most a few times), the hung node's fail fast.
        var window = calls.SelectMany(c => c).Where(c => c.StartMs >= pausedAt + 1000 && c.StartMs + c.Ms < resumedAt - 50).ToArray();
        var healthyReads = window.Count(c => !onVictim[c.Key]);
        var healthyLoads = Enumerable.Range(0, Keys).Where(k => !onVictim[k]).Sum(k => healthyLoadsAtResume[k] - healthyLoadsAt1s[k]);
        Assert.True(healthyReads > 200, $"only {healthyReads} reads of the healthy nodes' keys during the hang");
        Assert.True(
            healthyReads - healthyLoads >= healthyReads * 0.8,
            $"healthy nodes' keys: {healthyReads} reads, {healthyLoads} loads during the hang: the whole cache was cut off");
        var hung = window.Where(c => onVictim[c.Key]).Select(c => c.Ms).Order().ToArray();
        Assert.True(hung.Length > 50, $"only {hung.Length} reads of the hung node's keys during the hang");
        var p99 = hung[(int)(hung.Length * 0.99)];
        Assert.True(p99 < 100, $"p99 of the hung node's reads after the first second was {p99.ToString("0.0", CultureInfo.InvariantCulture)} ms over {hung.Length} calls");
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 110);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 111);
    }

    private sealed class CountingLoader(FakeDatabase database) : ICacheLoader<int, string>
    {
        private readonly int[] _loads = new int[Keys];

        public int LoadsOf(int key) => Volatile.Read(ref _loads[key]);

        public int[] Snapshot() => Enumerable.Range(0, Keys).Select(LoadsOf).ToArray();

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads[key]);
            return database.LoadAsync(key, cancellationToken);
        }
    }
}
