using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The strategies over Redis with two DI containers (two providers, two connections) sharing one database and one
/// server, as two application processes would: no stale entry under races, one load for a cold key across both.
/// </summary>
public abstract class RedisStrategyContract(IRedisTarget redis)
{
    private const int Rounds = 4;

    private ServiceProvider Container(string instance, CacheStrategyKind kind, ICacheLoader<int, string> loader, ICacheWriter<int, string>? writer, Action<CacheStrategyOptions>? configure = null) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })

            // A loaded 2-core machine must not turn slow calls into failures: this test is about fencing, not timeouts.
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(kind, _ => loader, _ => writer, o =>
            {
                o.Jitter = 0;
                configure?.Invoke(o);
            })
            .Services.BuildServiceProvider();

    [Theory]
    [InlineData(CacheStrategyKind.CacheAside)]
    [InlineData(CacheStrategyKind.WriteThrough)]
    public async Task Two_clients_sharing_one_redis_leave_no_stale_entry(CacheStrategyKind kind)
    {
        for (var round = 0; round < Rounds; round++)
        {
            var instance = redis.NewInstanceName();
            var database = new FakeDatabase(maxDelayMicroseconds: 200);
            await using var first = Container(instance, kind, database, database);
            await using var second = Container(instance, kind, database, database);
            using var peeker = redis.CreateProvider(instanceName: instance);
            var peek = RedisServer.CreateStore(peeker, prefix: "String:");
            var strategy = new TwoClients(first.GetRequiredService<ICacheStrategy<int, string>>(), second.GetRequiredService<ICacheStrategy<int, string>>());

            var report = await ConsistencyChecker.RunAsync(strategy, database, async key =>
            {
                var lookup = await peek.GetAsync(key.ToString(System.Globalization.CultureInfo.InvariantCulture), acquireLease: false, CancellationToken.None);
                return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
            }, new CheckerOptions(OperationsPerWorker: 150));

            Assert.True(report.IsConsistent, $"{kind} round {round}: " + string.Join("; ", report.StaleEntries));
            Assert.True(database.Loads > 0);
        }
    }

    [Fact]
    public async Task Checker_finds_stale_entries_of_a_naive_unfenced_cache_aside_over_redis()
    {
        var staleRounds = 0;
        for (var round = 0; round < 40 && staleRounds == 0; round++)
        {
            using var provider = redis.CreateProvider();
            var store = new StringKeyed(RedisServer.CreateStore(provider));
            var database = new FakeDatabase(maxDelayMicroseconds: 1000);
            var naive = new NaiveCacheAside(store, database);
            var report = await ConsistencyChecker.RunAsync(naive, database, async key =>
            {
                var lookup = await store.GetAsync(key, acquireLease: false, CancellationToken.None);
                return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
            }, new CheckerOptions(Keys: 1, Readers: 8, BulkReads: false, Invalidations: false, OperationsPerWorker: 100));
            staleRounds += report.IsConsistent ? 0 : 1;
        }

        Assert.True(staleRounds > 0, "The checker never caught the naive cache-aside serving a stale value over Redis: it proves nothing here.");
    }

    [Fact]
    public async Task Stampede_across_two_containers_loads_a_cold_key_once()
    {
        var instance = redis.NewInstanceName();
        var loader = new GatedLoader();
        await using var first = Container(instance, CacheStrategyKind.CacheAside, loader, null, o => o.LeaseWaitTimeout = TimeSpan.FromSeconds(20));
        await using var second = Container(instance, CacheStrategyKind.CacheAside, loader, null, o => o.LeaseWaitTimeout = TimeSpan.FromSeconds(20));
        var a = first.GetRequiredService<ICacheStrategy<int, string>>();
        var b = second.GetRequiredService<ICacheStrategy<int, string>>();

        // Connect both first, so the 200 callers race on the key rather than on the connection.
        await a.TryGetAsync(0);
        await b.TryGetAsync(0);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? a : b).GetAsync(42);
        })).ToArray();
        start.SetResult();

        // The first load has started: the other container's leader finds the lease held and polls. Hold the load a
        // little so the polling is real, then let it finish.
        await Wait.UntilAsync(() => Task.FromResult(loader.Loads >= 1), TimeSpan.FromSeconds(10), "the first load starts");
        await Wait.UntilAsync(async () => await redis.Database.KeyExistsAsync($"{{{instance}String:42}}:l"), TimeSpan.FromSeconds(5), "the lease is on the server");
        await Task.Delay(300);
        loader.Gate.SetResult();

        var results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(results, r => Assert.Equal("loaded-42", r));
        Assert.Equal(1, loader.Loads);
        Assert.Equal(CacheLookupStatus.Hit, (await RedisServer.CreateStore(redis.CreateProvider(instanceName: instance), prefix: "String:").GetAsync("42", false, default)).Status);
    }

    [Fact]
    public async Task Fail_safe_serves_the_stale_redis_entry_when_the_loader_fails()
    {
        var instance = redis.NewInstanceName();
        var loader = new FlakyLoader();
        await using var services = Container(instance, CacheStrategyKind.CacheAside, loader, null, o =>
        {
            o.Expiration = TimeSpan.FromMilliseconds(300);
            o.FailSafeMaxStaleness = TimeSpan.FromMinutes(1);
        });
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("v1", await strategy.GetAsync(1));

        var raw = RedisServer.CreateStore(redis.CreateProvider(instanceName: instance), prefix: "String:");
        await Wait.UntilAsync(async () => (await raw.GetAsync("1", false, default)).Status == CacheLookupStatus.Stale, TimeSpan.FromSeconds(5), "the entry turns stale");
        loader.Fail = true;
        Assert.Equal("v1", await strategy.GetAsync(1));

        loader.Fail = false;
        Assert.Equal("v2", await strategy.GetAsync(1));
    }

    [Fact]
    public async Task Stale_while_revalidate_across_two_containers_refreshes_once_and_both_serve_the_stale_value_meanwhile()
    {
        var instance = redis.NewInstanceName();
        var loader = new RefreshGatedLoader();
        void Swr(CacheStrategyOptions o)
        {
            o.Expiration = TimeSpan.FromMilliseconds(300);
            o.StaleWhileRevalidate = TimeSpan.FromMinutes(1);
            o.LeaseWaitTimeout = TimeSpan.FromSeconds(20);
        }

        await using var first = Container(instance, CacheStrategyKind.CacheAside, loader, null, Swr);
        await using var second = Container(instance, CacheStrategyKind.CacheAside, loader, null, Swr);
        var a = first.GetRequiredService<ICacheStrategy<int, string>>();
        var b = second.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("v1", await a.GetAsync(7));
        Assert.Equal("v1", await b.GetAsync(7));

        var raw = RedisServer.CreateStore(redis.CreateProvider(instanceName: instance), prefix: "String:");
        await Wait.UntilAsync(async () => (await raw.GetAsync("7", false, default)).Status == CacheLookupStatus.Stale, TimeSpan.FromSeconds(5), "the entry turns stale");

        // A serves the stale value at once and starts the refresh, which takes the lease and waits on the gate.
        Assert.Equal("v1", await a.GetAsync(7));
        await Wait.UntilAsync(() => Task.FromResult(loader.Loads == 2), TimeSpan.FromSeconds(10), "the refresh starts");
        await Wait.UntilAsync(async () => await redis.Database.KeyExistsAsync($"{{{instance}String:7}}:l"), TimeSpan.FromSeconds(5), "the refresh holds the lease");

        // B sees the lease held elsewhere: it serves the stale value too and loads nothing.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v1", await b.GetAsync(7));
            Assert.Equal("v1", await a.GetAsync(7));
        }

        Assert.Equal(2, loader.Loads);
        loader.Gate.SetResult();
        await Wait.UntilAsync(async () => await b.GetAsync(7) == "v2" && await a.GetAsync(7) == "v2", TimeSpan.FromSeconds(10), "both serve the refreshed value");
        Assert.Equal(2, loader.Loads);
    }

    [Fact]
    public async Task IDistributedCache_over_redis_is_shared_by_two_containers_and_refresh_slides()
    {
        var instance = redis.NewInstanceName();
        ServiceProvider Build() => new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddDistributedCache()
            .Services.BuildServiceProvider();
        await using var first = Build();
        await using var second = Build();
        var a = first.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();
        var b = second.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();

        await a.SetAsync("session", [1, 2, 3], new Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMilliseconds(1500) });
        Assert.Equal([1, 2, 3], await b.GetAsync("session"));
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromMilliseconds(2500))
        {
            await Task.Delay(150);
            await b.RefreshAsync("session");
        }

        Assert.Equal([1, 2, 3], await a.GetAsync("session"));
        await b.RemoveAsync("session");
        Assert.Null(await a.GetAsync("session"));
    }

    [Fact]
    public async Task A_corrupt_redis_entry_is_logged_removed_and_loaded_again()
    {
        var instance = redis.NewInstanceName();
        var loader = new FlakyLoader();
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        await using var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)))
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })

            // The first call also connects: on a cold, loaded machine that can take longer than the default 500 ms.
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader)
            .Services.BuildServiceProvider();
        var key = $"{{{instance}String:5}}";
        await redis.Database.StringSetAsync(key, "written by something else");

        Assert.Equal("v1", await services.GetRequiredService<ICacheStrategy<int, string>>().GetAsync(5));
        Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains(key, StringComparison.Ordinal) && r.Message.Contains("could not be read back", StringComparison.Ordinal));
        Assert.Equal(CacheLookupStatus.Hit, (await RedisServer.CreateStore(redis.CreateProvider(instanceName: instance), prefix: "String:").GetAsync("5", false, default)).Status);
    }

    private sealed class FlakyLoader : ICacheLoader<int, string>
    {
        private int _version;

        public volatile bool Fail;

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) =>
            Fail ? throw new InvalidOperationException("database down") : ValueTask.FromResult(LoadResult.Found($"v{Interlocked.Increment(ref _version)}"));

        public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    /// <summary>The first load answers at once; later loads (the refreshes) wait for the gate. Values v1, v2, ...</summary>
    private sealed class RefreshGatedLoader : ICacheLoader<int, string>
    {
        private int _loads;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Loads => Volatile.Read(ref _loads);

        public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            var load = Interlocked.Increment(ref _loads);
            if (load > 1)
            {
                await Gate.Task.WaitAsync(cancellationToken);
            }

            return LoadResult.Found($"v{load}");
        }

        public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    /// <summary>An int-keyed view of a string-keyed store (the naive cache-aside wants int keys).</summary>
    private sealed class StringKeyed(ICacheStore<string, string> inner) : ICacheStore<int, string>
    {
        private static string K(int key) => key.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public ValueTask<CacheLookup<string>> GetAsync(int key, bool acquireLease, CancellationToken cancellationToken) => inner.GetAsync(K(key), acquireLease, cancellationToken);

        public ValueTask<CacheLookup<string>[]> GetManyAsync(IReadOnlyList<int> keys, bool acquireLeases, CancellationToken cancellationToken) => inner.GetManyAsync(keys.Select(K).ToArray(), acquireLeases, cancellationToken);

        public ValueTask<bool> FillAsync(int key, CacheLease lease, CacheValue<string> value, StoreEntryOptions options, CancellationToken cancellationToken) => inner.FillAsync(K(key), lease, value, options, cancellationToken);

        public ValueTask ReleaseLeaseAsync(int key, CacheLease lease, CancellationToken cancellationToken) => inner.ReleaseLeaseAsync(K(key), lease, cancellationToken);

        /// <summary>A slow link between the load and its store (as over a network): widens the stale-set race the checker must catch.</summary>
        public async ValueTask SetAsync(int key, CacheValue<string> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await Task.Delay(Random.Shared.Next(3), cancellationToken);
            await inner.SetAsync(K(key), value, options, cancellationToken);
        }

        public ValueTask RefreshAsync(int key, CancellationToken cancellationToken) => inner.RefreshAsync(K(key), cancellationToken);

        public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken) => inner.InvalidateAsync(K(key), cancellationToken);

        public ValueTask<CacheWriteToken> BeginWriteAsync(int key, CancellationToken cancellationToken) => inner.BeginWriteAsync(K(key), cancellationToken);

        public ValueTask<bool> CompleteWriteAsync(int key, CacheWriteToken token, CacheValue<string> value, StoreEntryOptions options, CancellationToken cancellationToken) => inner.CompleteWriteAsync(K(key), token, value, options, cancellationToken);

        public ValueTask AbortWriteAsync(int key, CacheWriteToken token, CancellationToken cancellationToken) => inner.AbortWriteAsync(K(key), token, cancellationToken);

        public ValueTask<bool> StoreAsync(int key, CacheValue<string> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken) => inner.StoreAsync(K(key), value, options, writeId, cancellationToken);

        public ValueTask<bool> DeleteAsync(int key, CacheWriteId writeId, CancellationToken cancellationToken) => inner.DeleteAsync(K(key), writeId, cancellationToken);
    }
}

[Collection(RedisServerGroup.Name)]
public sealed class RedisStrategyTests(RedisServer redis) : RedisStrategyContract(redis);

[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterStrategyTests(RedisCluster cluster) : RedisStrategyContract(cluster);
