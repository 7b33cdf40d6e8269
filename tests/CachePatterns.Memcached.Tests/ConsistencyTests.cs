using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// The core's consistency checker against three real memcached servers, with two provider instances (two "processes")
/// sharing one database: at quiescence no cached value differs from the database. The same checker does catch a
/// naive, unfenced cache-aside on the same servers, so it can fail here.
/// </summary>
public sealed class ConsistencyTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Rounds = 4;

    /// <summary>The shape under which the naive cache-aside below is caught within a few rounds.</summary>
    private static readonly CheckerOptions Hot = new(Keys: 1, Writers: 2, Readers: 8, OperationsPerWorker: 100, Invalidations: false, BulkReads: false, Deletes: false);

    [Theory]
    [InlineData(CacheStrategyKind.CacheAside, false)]
    [InlineData(CacheStrategyKind.WriteThrough, false)]
    [InlineData(CacheStrategyKind.CacheAside, true)]
    [InlineData(CacheStrategyKind.WriteThrough, true)]
    public async Task Two_provider_instances_sharing_one_database_leave_no_stale_entry(CacheStrategyKind kind, bool hot)
    {
        fixture.EnsureRunning();
        for (var round = 0; round < Rounds; round++)
        {
            var prefix = $"c{Guid.NewGuid():N}:";
            var database = new FakeDatabase(maxDelayMicroseconds: hot ? 2000 : 200);
            await using var one = Build(kind, database, prefix);
            await using var two = Build(kind, database, prefix);
            var split = new SplitStrategy(
                one.GetRequiredService<ICacheStrategy<int, string>>(),
                two.GetRequiredService<ICacheStrategy<int, string>>());
            using var peekProvider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = prefix)));
            Assert.True(new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<string>(out var serializer));
            var peek = peekProvider.CreateStore(new CacheStoreDescriptor<int, string>("peek", "String:", serializer));

            var report = await ConsistencyChecker.RunAsync(split, database, async key =>
            {
                var lookup = await peek.GetAsync(key, acquireLease: false, CancellationToken.None);
                return (lookup.Status == CacheLookupStatus.Hit && lookup.Value.Exists, lookup.Value.Value);
            }, hot ? Hot : new CheckerOptions());

            Assert.True(report.IsConsistent, $"{kind} round {round}: " + string.Join("; ", report.StaleEntries));
        }
    }

    [Fact]
    public async Task Checker_catches_a_naive_unfenced_cache_aside_on_memcached()
    {
        fixture.EnsureRunning();
        var staleRounds = 0;
        var rounds = 0;
        for (; rounds < 60 && staleRounds == 0; rounds++)
        {
            var database = new FakeDatabase(maxDelayMicroseconds: 2000);
            using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = $"n{Guid.NewGuid():N}:")));
            var store = provider.CreateStore(new CacheStoreDescriptor<int, string>("naive", "naive:", new Utf8Serializer()));
            var naive = new NaiveCacheAside(store, database);
            var report = await ConsistencyChecker.RunAsync(naive, database, async key =>
            {
                var lookup = await store.GetAsync(key, acquireLease: false, CancellationToken.None);
                return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
            }, Hot);
            staleRounds += report.IsConsistent ? 0 : 1;
        }

        Assert.True(staleRounds > 0, $"The checker never caught the naive cache-aside on memcached in {rounds} rounds: it cannot fail here, so it proves nothing.");
    }

    private ServiceProvider Build(CacheStrategyKind kind, FakeDatabase database, string prefix) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = prefix;
                o.OperationTimeout = TimeSpan.FromSeconds(3);
            })
            .AddStrategy<int, string>(kind, _ => database, _ => database, o => o.Jitter = 0)
            .Services.BuildServiceProvider();
}
