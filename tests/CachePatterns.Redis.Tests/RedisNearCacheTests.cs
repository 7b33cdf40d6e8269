using System.Diagnostics;
using CachePatterns.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The near cache on real Redis, two "processes" in one test process (two containers, two providers, two connections):
/// A's change drops B's copy; a gated load fenced by a write leaves no stale copy; a subscription cut by a TCP relay and a
/// frozen server (SIGSTOP) stop every copy being served at once, and the copies are dropped when the channel is back.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisNearCacheTests(RedisServer redis)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_write_in_one_process_drops_the_copy_in_the_other()
    {
        var database = new FakeDatabase();
        database.Seed(1, "v1");
        var instance = redis.NewInstanceName();
        await using var a = Process.Start(redis.Configuration, database, instance);
        await using var b = Process.Start(redis.Configuration, database, instance);
        await b.WaitServingAsync(1);
        await a.WaitServingAsync(1);

        await a.Strategy.WriteAsync(1, "v2");

        // B's copy goes when A's invalidation arrives (the measured delay is in docs/benchmarks.md); bounded here.
        await Wait.UntilAsync(async () => await b.Strategy.GetAsync(1) == "v2", Bound, "B reads A's write");
        Assert.True(b.Invalidations.Total() >= 1);
        Assert.Equal("v2", await b.Strategy.GetAsync(1));

        // The copy comes back, and A's removal drops it again.
        await b.WaitServingAsync(1);
        await a.Strategy.RemoveAsync(1);
        database.Seed(1, "v3");
        await Wait.UntilAsync(async () => await b.Strategy.GetAsync(1) == "v3", Bound, "B reads after A's removal");
    }

    [Fact]
    public async Task A_load_fenced_by_another_process_write_leaves_no_stale_copy()
    {
        var database = new FakeDatabase();
        database.Seed(1, "v1");
        database.Seed(2, "w1");
        var gated = new RowThenGateLoader(database);
        var instance = redis.NewInstanceName();
        await using var a = Process.Start(redis.Configuration, database, instance);
        await using var b = Process.Start(redis.Configuration, database, instance, loader: gated);
        await a.WaitServingAsync(2);

        // B leases key 1 and loads it slowly; A writes meanwhile (its invalidation revokes B's leases).
        var bRead = b.Strategy.GetAsync(1).AsTask();
        await Wait.UntilAsync(() => Task.FromResult(gated.Loads == 1), Bound, "B's load started");
        await a.Strategy.WriteAsync(1, "v2");
        gated.Gate.SetResult();

        // B's flight reads the row again after its fill was fenced; nothing older than A's write is served from B's memory.
        Assert.Equal("v2", await bRead.WaitAsync(Bound));
        await b.WaitServingAsync(1);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("v2", await b.Strategy.GetAsync(1));
        }
    }

    [Fact]
    public async Task No_copy_is_served_while_the_subscription_is_cut_and_copies_go_when_it_is_back()
    {
        var database = new FakeDatabase();
        database.Seed(1, "v1");
        var instance = redis.NewInstanceName();
        using var relay = new TcpProxy(redis.Port);
        await using var a = Process.Start(redis.Configuration, database, instance);
        await using var b = Process.Start($"127.0.0.1:{relay.Port},connectTimeout=1000,syncTimeout=1000", database, instance);
        await b.WaitServingAsync(1);
        var hitsBefore = b.NearHits.Total();

        relay.Cut();
        await b.Lost.Task.WaitAsync(Bound); // B's provider knows its connection is gone
        await a.Strategy.WriteAsync(1, "v2");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("v2", await b.Strategy.GetAsync(1)); // from the database: the cache is unreachable, never a copy
        }

        Assert.Equal(hitsBefore, b.NearHits.Total());
        Assert.True(b.Flushes.Total("reason", "disconnected") >= 1);

        relay.Restore();
        await Wait.UntilAsync(() => Task.FromResult(b.Flushes.Total("reason", "resynchronized") >= 2), Bound, "B's channel is confirmed again");
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        await b.WaitServingAsync(1);
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task A_frozen_server_stops_the_copies_at_once_and_none_is_stale_after_it_resumes()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            var database = new FakeDatabase();
            database.Seed(1, "v1");
            await using var a = Process.Start(server.Configuration, database, "f:");
            await using var b = Process.Start(server.Configuration, database, "f:");
            await b.WaitServingAsync(1);
            await a.WaitServingAsync(1);

            server.Pause();
            try
            {
                await b.Lost.Task.WaitAsync(Bound); // B's heartbeat finds the server frozen

                // A's write reaches the database; its invalidation waits in A's ledger (and B cannot hear it).
                await a.Strategy.WriteAsync(1, "v2");
                var hits = b.NearHits.Total();
                Assert.Equal("v2", await b.Strategy.GetAsync(1));
                Assert.Equal(hits, b.NearHits.Total());
                Assert.True(b.Flushes.Total("reason", "disconnected") >= 1);
            }
            finally
            {
                server.Resume();
            }

            await Wait.UntilAsync(() => Task.FromResult(b.Flushes.Total("reason", "resynchronized") >= 2), Bound, "B's channel is confirmed after SIGCONT");
            await Wait.UntilAsync(async () => await a.Strategy.GetAsync(1) == "v2" && await b.Strategy.GetAsync(1) == "v2", Bound, "A's invalidation is replayed");
            await b.WaitServingAsync(1);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("v2", await b.Strategy.GetAsync(1));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>A slow database read: the first load reads the row, then waits for <see cref="Gate"/> before returning it.</summary>
    private sealed class RowThenGateLoader(FakeDatabase database) : ICacheLoader<int, string>
    {
        private int _loads;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Loads => Volatile.Read(ref _loads);

        public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            var first = Interlocked.Increment(ref _loads) == 1;
            var found = database.TryRead(key, out var row);
            if (first)
            {
                await Gate.Task.WaitAsync(cancellationToken);
            }

            return found ? LoadResult.Found(row!) : LoadResult.NotFound<string>();
        }
    }

    /// <summary>One "process": a container with its own Redis provider (own connections) and a near cache.</summary>
    private sealed class Process : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private Process(ServiceProvider services, TaskCompletionSource lost)
        {
            _services = services;
            Lost = lost;
            var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            NearHits = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearHits);
            Flushes = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearFlushes);
            Invalidations = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearInvalidations);
            Strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        }

        public ICacheStrategy<int, string> Strategy { get; }

        public MetricCollector<long> NearHits { get; }

        public MetricCollector<long> Flushes { get; }

        public MetricCollector<long> Invalidations { get; }

        /// <summary>Completes when the provider reports its connection lost (what the core knows, whatever the near cache does).</summary>
        public TaskCompletionSource Lost { get; }

        public static Process Start(string configuration, FakeDatabase database, string instance, ICacheLoader<int, string>? loader = null)
        {
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var services = new ServiceCollection()
                .AddMetrics()
                .AddCachePatterns()
                .UseProvider(_ =>
                {
                    var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration, InstanceName = instance }));
                    ((Providers.ICacheProvider)provider).ConnectionChanged += (_, e) =>
                    {
                        if (e.State == Providers.CacheConnectionState.Lost)
                        {
                            lost.TrySetResult();
                        }
                    };
                    return provider;
                })
                .WithNearCache()
                .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader ?? database, _ => database, o => o.Jitter = 0)
                .Services.BuildServiceProvider();
            return new Process(services, lost);
        }

        /// <summary>Reads <paramref name="key"/> until a read is answered from process memory: the channel is confirmed and the copy made.</summary>
        public async Task WaitServingAsync(int key)
        {
            var clock = Stopwatch.StartNew();
            var before = NearHits.Total();
            while (NearHits.Total() == before)
            {
                Assert.True(clock.Elapsed < Bound, "the near cache never served a copy");
                await Strategy.GetAsync(key);
                if (NearHits.Total() == before)
                {
                    await Task.Delay(10);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            NearHits.Dispose();
            Flushes.Dispose();
            Invalidations.Dispose();
            await _services.DisposeAsync();
        }
    }
}

/// <summary>Sums of collected counter measurements.</summary>
internal static class NearCacheMetricTotals
{
    public static long Total(this MetricCollector<long> collector) =>
        collector.GetMeasurementSnapshot().Sum(m => m.Value);

    public static long Total(this MetricCollector<long> collector, string tag, string value) =>
        collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue(tag, out var v) && Equals(v, value)).Sum(m => m.Value);
}
