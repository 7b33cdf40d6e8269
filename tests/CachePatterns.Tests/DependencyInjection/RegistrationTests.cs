using CachePatterns.Memory;
using CachePatterns.Providers;
using CachePatterns.Strategies;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.DependencyInjection;

public class RegistrationTests
{
    [Fact]
    public async Task AddCacheAside_resolves_a_singleton_strategy_over_the_registered_loader()
    {
        var database = new TestDatabase().Seed(1, "one");
        var services = new ServiceCollection();
        services.AddSingleton(database);
        services.AddCachePatterns().AddCacheAside<int, string, TestDatabase>();
        using var provider = services.BuildServiceProvider();

        var strategy = provider.GetRequiredService<ICacheStrategy<int, string>>();

        Assert.Same(strategy, provider.GetRequiredService<ICacheStrategy<int, string>>());
        Assert.Same(strategy, provider.GetRequiredKeyedService<ICacheStrategy<int, string>>(CachePatternsBuilder.DefaultCacheName));
        Assert.Equal("String", strategy.Name);
        Assert.Equal(CacheStrategyKind.CacheAside, ((CacheStrategy<int, string>)strategy).Kind);
        Assert.Equal("one", await strategy.GetAsync(1));
        Assert.Equal(1, database.LoadCount);
    }

    [Fact]
    public void AddCacheAside_registers_the_loader_itself_when_it_is_not_registered()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns().AddCacheAside<int, string, TestDatabase>();
        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<ICacheStrategy<int, string>>());
        Assert.Same(provider.GetRequiredService<TestDatabase>(), provider.GetRequiredService<TestDatabase>());
    }

    [Fact]
    public async Task AddWriteThrough_resolves_a_write_through_strategy()
    {
        using var host = TestCacheHost.Create(b => b.AddWriteThrough<int, string, TestDatabase>(o => o.KeyPrefix = "product"));

        var strategy = host.Strategy;
        await strategy.WriteAsync(1, "one");

        Assert.Equal(CacheStrategyKind.WriteThrough, ((CacheStrategy<int, string>)strategy).Kind);
        Assert.Equal("product", strategy.Name);
        Assert.Equal("one", await strategy.GetAsync(1));
        Assert.Equal(0, host.Database.LoadCount);
    }

    [Fact]
    public async Task Two_named_caches_are_independent()
    {
        var a = new TestDatabase().Seed(1, "from a");
        var b = new TestDatabase().Seed(1, "from b");
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddCachePatterns("a").AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => a);
        services.AddCachePatterns("b").AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => b);
        using var provider = services.BuildServiceProvider();
        var cacheA = provider.GetRequiredKeyedService<ICache>("a");
        var cacheB = provider.GetRequiredKeyedService<ICache>("b");
        var strategyA = provider.GetRequiredKeyedService<ICacheStrategy<int, string>>("a");
        var strategyB = provider.GetRequiredKeyedService<ICacheStrategy<int, string>>("b");

        await cacheA.SetAsync("shared key", "a's value");

        Assert.Equal("a", cacheA.Name);
        Assert.Equal("b", cacheB.Name);
        Assert.Equal((true, "a's value"), await cacheA.TryGetAsync<string>("shared key"));
        Assert.False((await cacheB.TryGetAsync<string>("shared key")).Found);

        Assert.NotSame(strategyA, strategyB);
        Assert.Equal("from a", await strategyA.GetAsync(1));
        Assert.Equal("from b", await strategyB.GetAsync(1));
        await strategyA.InvalidateAsync(1);
        Assert.Equal("from b", await strategyB.GetAsync(1));
        Assert.Equal(1, b.LoadCount);
        Assert.Equal("from a", await strategyA.GetAsync(1));
        Assert.Equal(2, a.LoadCount);
    }

    [Fact]
    public void Named_caches_get_their_own_provider_options()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns("small").UseMemoryProvider(o => o.MaxEntries = 5);
        services.AddCachePatterns("large").UseMemoryProvider(o => o.MaxEntries = 5000);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<MemoryCacheProviderOptions>>();

        Assert.Equal(5, options.Get("small").MaxEntries);
        Assert.Equal(5000, options.Get("large").MaxEntries);
    }

    [Fact]
    public async Task Default_ICache_resolves_and_is_the_keyed_default()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns();
        using var provider = services.BuildServiceProvider();

        var cache = provider.GetRequiredService<ICache>();

        Assert.Same(cache, provider.GetRequiredKeyedService<ICache>(CachePatternsBuilder.DefaultCacheName));
        Assert.Equal(CachePatternsBuilder.DefaultCacheName, cache.Name);
        Assert.Equal(3, await cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(3)));
    }

    [Fact]
    public void Named_cache_alone_does_not_register_an_unkeyed_ICache()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns("only");
        using var provider = services.BuildServiceProvider();

        Assert.Null(provider.GetService<ICache>());
        Assert.NotNull(provider.GetKeyedService<ICache>("only"));
    }

    [Fact]
    public async Task AddDistributedCache_registers_IDistributedCache_over_the_cache()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddCachePatterns().AddDistributedCache();
        using var provider = services.BuildServiceProvider();

        var distributed = provider.GetRequiredService<IDistributedCache>();
        await distributed.SetAsync("session", [1, 2, 3], new DistributedCacheEntryOptions());

        Assert.Same(distributed, provider.GetRequiredKeyedService<IDistributedCache>(CachePatternsBuilder.DefaultCacheName));
        Assert.Equal([1, 2, 3], await distributed.GetAsync("session"));
    }

    [Fact]
    public async Task UseProvider_factory_is_called_once_for_every_strategy_of_the_cache()
    {
        var created = 0;
        var services = new ServiceCollection();
        services.AddCachePatterns()
            .UseProvider(_ =>
            {
                created++;
                return new MemoryCacheProvider();
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new TestDatabase().Seed(1, "one"))
            .AddStrategy<int, int>(CacheStrategyKind.CacheAside, _ => null);
        using var provider = services.BuildServiceProvider();

        Assert.Equal("one", await provider.GetRequiredService<ICacheStrategy<int, string>>().GetAsync(1));
        Assert.Equal(7, await provider.GetRequiredService<ICacheStrategy<int, int>>().GetOrLoadAsync(1, (_, _) => ValueTask.FromResult(LoadResult.Found(7))));
        Assert.Equal(1, await provider.GetRequiredService<ICache>().GetOrLoadAsync("x", _ => ValueTask.FromResult(1)));

        Assert.Equal(1, created);
    }

    [Fact]
    public async Task Custom_provider_creates_the_stores_of_the_strategies()
    {
        var stores = new List<string>();
        var inner = new MemoryCacheProvider();
        var provider = new Moq.Mock<ICacheProvider>();
        provider.SetupGet(p => p.IsInProcess).Returns(true);
        provider.Setup(p => p.CreateStore(Moq.It.IsAny<CacheStoreDescriptor<int, string>>()))
            .Returns((CacheStoreDescriptor<int, string> d) =>
            {
                stores.Add(d.Name + "|" + d.KeyPrefix);
                return inner.CreateStore(d);
            });
        var services = new ServiceCollection();
        services.AddCachePatterns().UseProvider(_ => provider.Object)
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new TestDatabase().Seed(1, "one"), configure: o => o.KeyPrefix = "product");
        using var sp = services.BuildServiceProvider();

        Assert.Equal("one", await sp.GetRequiredService<ICacheStrategy<int, string>>().GetAsync(1));

        Assert.Equal(["product|product:"], stores);
        inner.Dispose();
    }

    [Fact]
    public async Task ConfigureDefaults_sets_the_expiration_of_the_ad_hoc_cache()
    {
        using var host = TestCacheHost.Create(b => b.ConfigureDefaults(o =>
        {
            o.Expiration = TimeSpan.FromSeconds(10);
            o.Jitter = 0;
        }));
        var cache = host.Services.GetRequiredService<ICache>();
        var loads = 0;

        await cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads));
        host.Time.Advance(TimeSpan.FromSeconds(9));
        await cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads));
        Assert.Equal(1, loads);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, await cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads)));
    }
}
