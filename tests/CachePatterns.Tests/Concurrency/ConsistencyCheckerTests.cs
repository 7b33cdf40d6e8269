using CachePatterns.Memory;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using CachePatterns.Strategies;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Concurrency;

/// <summary>
/// At quiescence every cached value equals the database, under racing reads, writes, deletes, bulk reads and
/// invalidations on real threads — and the same checker does find stale entries in a naive, unfenced cache-aside.
/// </summary>
public sealed class ConsistencyCheckerTests
{
    private const int Rounds = 12;

    public static TheoryData<CacheStrategyKind, bool, MemoryEvictionPolicy> Configurations => new()
    {
        { CacheStrategyKind.CacheAside, false, MemoryEvictionPolicy.LeastRecentlyUsed },
        { CacheStrategyKind.WriteThrough, false, MemoryEvictionPolicy.LeastRecentlyUsed },
        { CacheStrategyKind.CacheAside, true, MemoryEvictionPolicy.LeastRecentlyUsed },
        { CacheStrategyKind.WriteThrough, true, MemoryEvictionPolicy.LeastRecentlyUsed },
        { CacheStrategyKind.CacheAside, false, MemoryEvictionPolicy.LeastFrequentlyUsed },
        { CacheStrategyKind.WriteThrough, false, MemoryEvictionPolicy.LeastFrequentlyUsed },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task Fenced_strategies_leave_no_stale_entry(CacheStrategyKind kind, bool serializeValues, MemoryEvictionPolicy policy)
    {
        for (var round = 0; round < Rounds; round++)
        {
            var database = new FakeDatabase(maxDelayMicroseconds: 200);
            await using var services = new ServiceCollection()
                .AddCachePatterns()
                .UseMemoryProvider(o =>
                {
                    o.SerializeValues = serializeValues;
                    o.EvictionPolicy = policy;
                })
                .AddStrategy<int, string>(kind, _ => database, _ => database, o => o.Jitter = 0)
                .Services.BuildServiceProvider();
            var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();

            var report = await ConsistencyChecker.RunAsync(strategy, database, key => strategy.TryGetAsync(key), new CheckerOptions());

            Assert.True(report.IsConsistent, $"{kind} round {round}: {report}");
            Assert.True(report.Reads > 0);

            // Every caller has its result once the flight completes; the flight's runner removes it from the table just
            // after (it also gives back its lease first), so a leak is a flight still there after that, not at once.
            Assert.True(
                SpinWait.SpinUntil(() => ((CacheStrategy<int, string>)strategy).FlightCount == 0, TimeSpan.FromSeconds(10)),
                $"{((CacheStrategy<int, string>)strategy).FlightCount} flights left in round {round}");
        }
    }

    /// <summary>
    /// Two containers over one shared in-memory store behave like two processes over one cache server: a write in one
    /// does not detach the other's flights, so only the fenced fill and the flight's reload keep a read that began after
    /// the write finished from getting the row its process loaded before. 10,800+ operations per kind.
    /// </summary>
    [Theory]
    [InlineData(CacheStrategyKind.CacheAside, false)]
    [InlineData(CacheStrategyKind.WriteThrough, false)]
    [InlineData(CacheStrategyKind.CacheAside, true)]
    public async Task Reads_never_return_a_row_older_than_a_write_another_process_finished(CacheStrategyKind kind, bool revalidate)
    {
        var shared = new SharedStoreProvider();
        try
        {
            // With stale-while-revalidate, entries expire after 2 ms and are refreshed in the background: a write removes
            // or replaces the stale entry, so what is served stale is still never older than a finished write.
            var database = new FakeDatabase(maxDelayMicroseconds: 500);
            await using var one = Container(shared, kind, database, revalidate);
            await using var two = Container(shared, kind, database, revalidate);
            var a = one.GetRequiredService<ICacheStrategy<int, string>>();
            var b = two.GetRequiredService<ICacheStrategy<int, string>>();
            var split = new SplitStrategy(a, b);

            // Hot keys: few of them, many readers, so reads keep joining loads that writes overtake.
            var report = await ConsistencyChecker.RunAsync(split, database, key => a.TryGetAsync(key), new CheckerOptions(Keys: 2, Writers: 4, Readers: 8, OperationsPerWorker: 900));

            Assert.True(report.Reads >= 7_000, $"only {report.Reads} reads checked");
            Assert.True(report.IsConsistent, $"{kind}, revalidate {revalidate}: {report}");
        }
        finally
        {
            shared.DisposeShared();
        }
    }

    private static ServiceProvider Container(SharedStoreProvider shared, CacheStrategyKind kind, FakeDatabase database, bool revalidate) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseProvider(_ => shared)
            .AddStrategy<int, string>(kind, _ => database, _ => database, o =>
            {
                o.Jitter = 0;
                if (revalidate)
                {
                    o.Expiration = TimeSpan.FromMilliseconds(2);
                    o.StaleWhileRevalidate = TimeSpan.FromMinutes(1);
                }
            })
            .Services.BuildServiceProvider();

    [Fact]
    public async Task Checker_finds_stale_entries_in_a_naive_unfenced_cache_aside()
    {
        Assert.True(new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<string>(out var serializer));
        var staleRounds = 0;
        for (var round = 0; round < 40 && staleRounds == 0; round++)
        {
            var database = new FakeDatabase(maxDelayMicroseconds: 200);
            using var provider = new MemoryCacheProvider();
            var store = provider.CreateStore(new CacheStoreDescriptor<int, string>("naive", "naive:", serializer));
            var naive = new NaiveCacheAside(store, database);

            var report = await ConsistencyChecker.RunAsync(naive, database, async key =>
            {
                var lookup = await store.GetAsync(key, acquireLease: false, CancellationToken.None);
                return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
            }, new CheckerOptions(BulkReads: false));

            staleRounds += report.StaleEntries.Count > 0 ? 1 : 0;
        }

        Assert.True(staleRounds > 0, "The checker never caught the naive cache-aside serving a stale value: it cannot fail, so it proves nothing.");
    }
}
