using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.DependencyInjection;

/// <summary>Two entity types with the same short name must not share keys silently.</summary>
public sealed class KeyPrefixCollisionTests
{
    [Fact]
    public void Two_strategies_with_the_same_key_prefix_are_refused_with_a_message_naming_both()
    {
        using var host = TestCacheHost.Create(b => b
            .AddStrategy<int, A.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<A.Product>(new A.Product()))
            .AddStrategy<int, B.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<B.Product>(new B.Product())));

        Assert.NotNull(host.Services.GetRequiredService<ICacheStrategy<int, A.Product>>());
        var ex = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<ICacheStrategy<int, B.Product>>());

        Assert.Contains("'Product:'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(A.Product).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(B.Product).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains("KeyPrefix", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_distinct_key_prefix_resolves_the_collision()
    {
        using var host = TestCacheHost.Create(b => b
            .AddStrategy<int, A.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<A.Product>(new A.Product()))
            .AddStrategy<int, B.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<B.Product>(new B.Product()), configure: o => o.KeyPrefix = "b-product"));

        Assert.NotNull(await host.Services.GetRequiredService<ICacheStrategy<int, A.Product>>().GetAsync(1));
        var b = host.Services.GetRequiredService<ICacheStrategy<int, B.Product>>();
        Assert.NotNull(await b.GetAsync(1));
        Assert.Equal("b-product", b.Name);
    }

    [Fact]
    public void A_key_prefix_that_starts_another_owners_prefix_is_refused()
    {
        using var host = TestCacheHost.Create(b => b
            .AddStrategy<int, A.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<A.Product>(new A.Product()))
            .AddDistributedCache(o => o.KeyPrefix = string.Empty));

        Assert.NotNull(host.Services.GetRequiredService<ICacheStrategy<int, A.Product>>());
        var ex = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>());

        Assert.Contains("IDistributedCache", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Product:'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ad_hoc_cache_has_its_own_prefix_next_to_strategies_and_the_distributed_cache()
    {
        using var host = TestCacheHost.Create(b => b
            .AddStrategy<int, A.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<A.Product>(new A.Product()))
            .AddDistributedCache());

        Assert.NotNull(host.Services.GetRequiredService<ICacheStrategy<int, A.Product>>());
        Assert.NotNull(host.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>());
        Assert.NotNull(host.Services.GetRequiredService<ICache>());
    }

    [Fact]
    public void A_strategy_key_prefix_in_the_ad_hoc_namespace_is_refused_at_start()
    {
        using var host = TestCacheHost.Create(b => b
            .AddStrategy<int, A.Product>(CacheStrategyKind.CacheAside, _ => new ProductLoader<A.Product>(new A.Product()), configure: o => o.KeyPrefix = "~default"));

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services.GetRequiredService<ICacheStrategy<int, A.Product>>());
        Assert.Contains("KeyPrefix '~default'", ex.Message, StringComparison.Ordinal);
    }

    private sealed class ProductLoader<T>(T value) : ICacheLoader<int, T>
    {
        public ValueTask<LoadResult<T>> LoadAsync(int key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.Found(value));
    }
}
