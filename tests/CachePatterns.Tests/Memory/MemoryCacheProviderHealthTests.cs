using CachePatterns.Memory;
using CachePatterns.Providers;
using CachePatterns.Serialization;

namespace CachePatterns.Tests.Memory;

/// <summary>The memory provider's health data reports every store's entries and bytes.</summary>
public sealed class MemoryCacheProviderHealthTests
{
    [Fact]
    public async Task Stores_sharing_a_name_are_reported_separately_by_value_type()
    {
        var json = new SystemTextJsonCacheSerializerFactory();
        Assert.True(json.TryCreateSerializer<string>(out var strings));
        Assert.True(json.TryCreateSerializer<int>(out var ints));
        using var provider = new MemoryCacheProvider();
        var first = provider.CreateStore(new CacheStoreDescriptor<string, string>("default", string.Empty, strings));
        var second = provider.CreateStore(new CacheStoreDescriptor<string, int>("default", string.Empty, ints));

        await first.SetAsync("a", CacheValue<string>.Of("x"), StoreEntryOptions.NoExpiration, CancellationToken.None);
        await second.SetAsync("a", CacheValue<int>.Of(1), StoreEntryOptions.NoExpiration, CancellationToken.None);
        await second.SetAsync("b", CacheValue<int>.Of(2), StoreEntryOptions.NoExpiration, CancellationToken.None);
        var health = await provider.CheckHealthAsync();

        Assert.True(health.IsHealthy);
        Assert.Equal(1, health.Data!["default.entries"]);
        Assert.Equal(2, health.Data!["default<Int32>.entries"]);
    }
}
