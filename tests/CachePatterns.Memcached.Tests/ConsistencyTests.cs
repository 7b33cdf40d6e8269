using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// The core's consistency checker against three real memcached servers, with two provider instances (two "processes")
/// sharing one database: at quiescence no cached value differs from the database.
/// </summary>
public sealed class ConsistencyTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Rounds = 4;

    [Theory]
    [InlineData(CacheStrategyKind.CacheAside)]
    [InlineData(CacheStrategyKind.WriteThrough)]
    public async Task Two_provider_instances_sharing_one_database_leave_no_stale_entry(CacheStrategyKind kind)
    {
        fixture.EnsureRunning();
        for (var round = 0; round < Rounds; round++)
        {
            var prefix = $"c{Guid.NewGuid():N}:";
            var database = new FakeDatabase(maxDelayMicroseconds: 200);
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
            }, new CheckerOptions());

            Assert.True(report.IsConsistent, $"{kind} round {round}: " + string.Join("; ", report.StaleEntries));
        }
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

    /// <summary>Sends each call to one of two strategies at random: two application instances over one cache and one database.</summary>
    private sealed class SplitStrategy(ICacheStrategy<int, string> one, ICacheStrategy<int, string> two) : ICacheStrategy<int, string>
    {
        private ICacheStrategy<int, string> Pick => Random.Shared.Next(2) == 0 ? one : two;

        public string Name => "split";

        public ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default) => Pick.GetAsync(key, cancellationToken);

        public ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default) => Pick.TryGetAsync(key, cancellationToken);

        public ValueTask<IReadOnlyDictionary<int, string>> GetManyAsync(IEnumerable<int> keys, CancellationToken cancellationToken = default) => Pick.GetManyAsync(keys, cancellationToken);

        public ValueTask<string?> GetOrLoadAsync<TState>(int key, TState state, Func<int, TState, CancellationToken, ValueTask<LoadResult<string>>> factory, CancellationToken cancellationToken = default) =>
            Pick.GetOrLoadAsync(key, state, factory, cancellationToken);

        public ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) => Pick.WriteAsync(key, value, options, cancellationToken);

        public ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default) => Pick.RemoveAsync(key, cancellationToken);

        public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default) => Pick.InvalidateAsync(key, cancellationToken);
    }
}
