using CachePatterns.Memcached.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// The ad-hoc <see cref="ICache"/> shares the memcached keyspace with the strategies of its cache: its keys live in their own
/// namespace (no <c>ICache</c> key reaches a strategy's entry), and a key stored as one value type is not read as another.
/// </summary>

public sealed class AdHocKeyNamespaceTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Fact]
    public async Task An_ad_hoc_key_that_spells_a_strategy_key_does_not_touch_the_strategy_entry()
    {
        await using var services = Container($"a{Guid.NewGuid():N}:");
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        var cache = services.GetRequiredService<ICache>();
        Assert.Equal("row 42", await strategy.GetAsync(42));

        await cache.SetAsync("String:42", "ad-hoc");

        Assert.Equal((true, "row 42"), await strategy.TryGetAsync(42));
        Assert.Equal((true, "ad-hoc"), await cache.TryGetAsync<string>("String:42"));
    }

    [Fact]
    public async Task One_ad_hoc_key_stored_as_one_type_is_a_miss_for_another_not_a_wrong_value()
    {
        await using var services = Container($"a{Guid.NewGuid():N}:");
        var cache = services.GetRequiredService<ICache>();

        await cache.SetAsync("shared", 5);

        Assert.Equal((false, 0L), await cache.TryGetAsync<long>("shared"));
        Assert.Equal(7L, await cache.GetOrLoadAsync("shared", _ => ValueTask.FromResult(7L)));
        Assert.Equal((true, 7L), await cache.TryGetAsync<long>("shared"));
        Assert.Equal((false, 0), await cache.TryGetAsync<int>("shared"));
    }

    private ServiceProvider Container(string instance)
    {
        fixture.EnsureRunning();
        return new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = instance;
                o.OperationTimeout = TimeSpan.FromSeconds(3);
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new RowLoader())
            .Services.BuildServiceProvider();
    }

    private sealed class RowLoader : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.Found($"row {key}"));
    }
}
