using System.Diagnostics;
using CachePatterns.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The near cache on real Redis, two "processes" in one test process (two containers, two providers, two connections):
/// A's change drops B's copy; a gated load fenced by a write leaves no stale copy; a subscription cut by a TCP relay and a
/// frozen server (SIGSTOP) stop every copy being served at once, and the copies are dropped when the channel is back.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisNearCacheTests(RedisServer redis)
{
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

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
    public async Task A_tag_invalidated_in_one_process_drops_the_tagged_copies_in_both_and_only_those()
    {
        // Before the tag message, both processes served their copies of the tag's cached queries from memory until the
        // copies' lifetime ended; before copies recorded their tags, every copy of the cache went. Two queries of the tag:
        // A reloading "q1" publishes that key, so "q2" is dropped in B only if the tag's own message arrives; "other" (another
        // tag) and "plain" (none) stay served from memory in both.
        var rows = "v1";
        var instance = redis.NewInstanceName();
        await using var a = Process.Start(redis.Configuration, new FakeDatabase(), instance);
        await using var b = Process.Start(redis.Configuration, new FakeDatabase(), instance);
        ValueTask<string> QueryAsync(Process process, string query, string? tag) =>
            process.Cache.GetOrLoadAsync(
                query, 0, (_, _) => ValueTask.FromResult(Volatile.Read(ref rows)), tag is null ? null : new CacheEntryOptions { Tags = [tag] });
        var queries = new (string Query, string? Tag)[] { ("q1", "group"), ("q2", "group"), ("other", "other"), ("plain", null) };
        foreach (var process in new[] { a, b })
        {
            foreach (var (query, tag) in queries)
            {
                await process.WaitServingAsync(() => QueryAsync(process, query, tag).AsTask());
            }
        }

        Volatile.Write(ref rows, "v2");
        await a.Cache.InvalidateTagAsync("group");

        Assert.Equal("v2", await QueryAsync(a, "q1", "group"));
        await Wait.UntilAsync(async () => await QueryAsync(b, "q2", "group") == "v2", Bound, "B reads q2 after A's tag invalidation");
        foreach (var process in new[] { a, b })
        {
            var hits = process.NearHits.Total();
            Assert.Equal("v1", await QueryAsync(process, "other", "other"));
            Assert.Equal("v1", await QueryAsync(process, "plain", null));
            Assert.Equal(hits + 2, process.NearHits.Total());
            Assert.Equal(0, process.Flushes.Total("reason", "invalidate_tag"));
        }
    }

    [Fact]
    public async Task A_copy_lives_no_longer_than_the_entry_has_left_on_the_server()
    {
        // B's cache keeps its own entries 5 min (copies 1 min); A stores a price for 3 s. Before, B's copy of it was bounded
        // by B's defaults and served for up to 1 min after Redis expired the entry (an expiry publishes nothing).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var instance = redis.NewInstanceName();
        await using var a = Process.Start(redis.Configuration, new FakeDatabase(), instance);
        await using var b = Process.Start(redis.Configuration, new FakeDatabase(), instance, time: time);
        await a.Cache.SetAsync("price", "9.99", CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(3)));
        ValueTask<string> ReadAsync() => b.Cache.GetOrLoadAsync("price", 0, (_, _) => ValueTask.FromResult("reloaded"));
        await b.WaitServingAsync(async () => Assert.Equal("9.99", await ReadAsync()));

        // 3.5 s later by B's clock the entry's life on the server is over (3 s with A's ±10 % jitter: at most 3.3 s), whenever
        // B copied it; the server drops it silently (here: a DEL outside the library, which publishes nothing either). B's
        // next read must not come from the copy.
        time.Advance(TimeSpan.FromSeconds(3.5));
        await ExpireSilentlyAsync(instance);
        Assert.Equal("reloaded", await ReadAsync());
    }

    [Fact]
    public async Task A_copy_of_a_sliding_entry_goes_back_to_the_server_within_half_the_window()
    {
        // The entry slides by 4 s on the server; B's defaults have no sliding window. A copy's reads do not renew the entry on
        // the server, so the copy must send B's reads back there (which renews) before the entry can expire: by 2 s.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var instance = redis.NewInstanceName();
        await using var a = Process.Start(redis.Configuration, new FakeDatabase(), instance);
        await using var b = Process.Start(redis.Configuration, new FakeDatabase(), instance, time: time);
        await a.Cache.SetAsync("session", "cart", CacheEntryOptions.ExpireAfterIdle(TimeSpan.FromSeconds(4)));
        ValueTask<string> ReadAsync() => b.Cache.GetOrLoadAsync("session", 0, (_, _) => ValueTask.FromResult("reloaded"));
        await b.WaitServingAsync(async () => Assert.Equal("cart", await ReadAsync()));

        time.Advance(TimeSpan.FromSeconds(2));
        await ExpireSilentlyAsync(instance);
        Assert.Equal("reloaded", await ReadAsync());
    }

    /// <summary>Deletes the instance's keys on the server without a message, as an expiry or eviction would.</summary>
    private async Task ExpireSilentlyAsync(string instance)
    {
        var server = redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]);
        await foreach (var key in server.KeysAsync(pattern: "*" + instance + "*"))
        {
            await redis.Database.KeyDeleteAsync(key);
        }
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

        var lost = b.ExpectLoss();
        relay.Cut();
        await lost.WaitAsync(Bound); // B's provider knows its connection is gone
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
    public async Task A_copy_made_before_the_subscription_was_lost_is_not_served_after_it_is_back()
    {
        // Only B's pub/sub connection is cut: its reads and writes keep working, A's invalidation is lost to B, and nothing
        // but the flush on the loss (and on the resubscription) drops B's copy of v1. No read of B during the cut, so the
        // copy cannot be replaced by one: the first read after the channel is back is the check. (The two-process checker's
        // relay-cut run needed its timing to land a read of a kept copy after the reconnect: 5 of 11 runs caught it.)
        var database = new FakeDatabase();
        database.Seed(1, "v1");
        var instance = redis.NewInstanceName();
        using var relay = new TcpProxy(redis.Port);
        await using var a = Process.Start(redis.Configuration, database, instance);
        await using var b = Process.Start($"127.0.0.1:{relay.Port},connectTimeout=1000,syncTimeout=1000", database, instance);
        await b.WaitServingAsync(1);

        var lostBefore = b.Flushes.Total("reason", "disconnected");
        Assert.True(relay.CutSubscriptions() >= 1, "B has no subscription connection to cut");
        await Wait.UntilAsync(() => Task.FromResult(b.Flushes.Total("reason", "disconnected") > lostBefore), Bound, "B's channel reports the loss");
        await a.Strategy.WriteAsync(1, "v2");

        var resynchronizedBefore = b.Flushes.Total("reason", "resynchronized");
        relay.Restore();
        await Wait.UntilAsync(() => Task.FromResult(b.Flushes.Total("reason", "resynchronized") > resynchronizedBefore), Bound, "B's channel is confirmed again");
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

            var lost = b.ExpectLoss();
            server.Pause();
            try
            {
                await lost.WaitAsync(Bound); // B's heartbeat finds the server frozen

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

    /// <summary>The wait for the next loss a provider reports.</summary>
    internal sealed class LossWatch
    {
        public TaskCompletionSource? Next;
    }

    /// <summary>One "process": a container with its own Redis provider (own connections) and a near cache.</summary>
    internal sealed class Process : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly LossWatch _losses;

        private Process(ServiceProvider services, LossWatch losses)
        {
            _services = services;
            _losses = losses;
            var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            NearHits = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearHits);
            Flushes = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearFlushes);
            Invalidations = new MetricCollector<long>(meters, CacheDiagnostics.SourceName, CacheDiagnostics.NearInvalidations);
            Strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
            Cache = services.GetRequiredService<ICache>();
        }

        public ICacheStrategy<int, string> Strategy { get; }

        public ICache Cache { get; }

        public MetricCollector<long> NearHits { get; }

        public MetricCollector<long> Flushes { get; }

        public MetricCollector<long> Invalidations { get; }

        /// <summary>
        /// Completes at the provider's next report of a lost connection (what the core knows, whatever the near cache does);
        /// earlier reports (a heartbeat late on a loaded machine) do not count.
        /// </summary>
        public Task ExpectLoss()
        {
            var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _losses.Next, next);
            return next.Task;
        }

        /// <summary>Starts a "process"; <paramref name="time"/> is the core's clock (the near cache's), the provider keeps the system's.</summary>
        public static Process Start(string configuration, FakeDatabase database, string instance, ICacheLoader<int, string>? loader = null, TimeProvider? time = null)
        {
            var losses = new LossWatch();
            var collection = new ServiceCollection();
            if (time is not null)
            {
                collection.AddSingleton(time);
            }

            var services = collection
                .AddMetrics()
                .AddCachePatterns()
                .UseProvider(_ =>
                {
                    var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration, InstanceName = instance }));
                    ((Providers.ICacheProvider)provider).ConnectionChanged += (_, e) =>
                    {
                        if (e.State == Providers.CacheConnectionState.Lost)
                        {
                            Volatile.Read(ref losses.Next)?.TrySetResult();
                        }
                    };
                    return provider;
                })
                .WithNearCache()
                .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader ?? database, _ => database, o => o.Jitter = 0)
                .Services.BuildServiceProvider();
            return new Process(services, losses);
        }

        /// <summary>Reads <paramref name="key"/> until a read is answered from process memory: the channel is confirmed and the copy made.</summary>
        public Task WaitServingAsync(int key) => WaitServingAsync(() => Strategy.GetAsync(key).AsTask());

        /// <summary>Runs <paramref name="read"/> until one is answered from process memory.</summary>
        public async Task WaitServingAsync(Func<Task> read)
        {
            var clock = Stopwatch.StartNew();
            var before = NearHits.Total();
            while (NearHits.Total() == before)
            {
                Assert.True(clock.Elapsed < Bound, "the near cache never served a copy");
                await read();
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

/// <summary>
/// The near cache on a 3-primary Cluster: the scripts' <c>PUBLISH</c> runs on the node owning each key and is forwarded to
/// every node, so one subscription (on whichever node its channel's slot names) hears changes of keys on all three.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterNearCacheTests(RedisCluster cluster)
{
    [Fact]
    public async Task A_write_in_one_process_drops_the_copies_of_keys_on_every_node_in_the_other()
    {
        const int Keys = 30;
        var database = new FakeDatabase();
        for (var k = 0; k < Keys; k++)
        {
            database.Seed(k, $"v1-{k}");
        }

        var instance = cluster.NewInstanceName();
        await using var a = RedisNearCacheTests.Process.Start(cluster.Configuration, database, instance);
        await using var b = RedisNearCacheTests.Process.Start(cluster.Configuration, database, instance);
        for (var k = 0; k < Keys; k++)
        {
            await b.WaitServingAsync(k);
        }

        for (var k = 0; k < Keys; k++)
        {
            await a.Strategy.WriteAsync(k, $"v2-{k}");
        }

        for (var k = 0; k < Keys; k++)
        {
            var key = k;
            await Wait.UntilAsync(async () => await b.Strategy.GetAsync(key) == $"v2-{key}", RedisNearCacheTests.Bound, $"B reads A's write of key {key}");
        }

        Assert.True(b.Invalidations.Total() >= Keys);
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
