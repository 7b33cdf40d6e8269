using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Tests.Memory;

/// <summary><see cref="CachePatterns.Memory.MemoryCacheProviderOptions.SerializeValues"/>: private copies and corrupt entries.</summary>
public class SerializedValuesTests
{
    [Fact]
    public async Task Serialized_values_give_each_reader_its_own_copy()
    {
        using var host = BasketHost(serialize: true);
        var strategy = host.Services.GetRequiredService<ICacheStrategy<int, Basket>>();

        var loaded = await strategy.GetAsync(1);
        loaded!.Items.Add("added by the loading caller");
        var first = await strategy.GetAsync(1);
        first!.Items.Add("added by a reader");
        first.Owner = "someone else";
        var second = await strategy.GetAsync(1);

        Assert.NotSame(first, second);
        Assert.Equal("alice", second!.Owner);
        Assert.Equal(["apple"], second.Items);
    }

    [Fact]
    public async Task Without_serialization_readers_share_one_instance()
    {
        using var host = BasketHost(serialize: false);
        var strategy = host.Services.GetRequiredService<ICacheStrategy<int, Basket>>();

        var first = await strategy.GetAsync(1);
        var second = await strategy.GetAsync(1);

        Assert.Same(first, second);
    }

    [Fact]
    public async Task Corrupt_entry_is_a_miss_that_removes_the_entry_and_is_logged()
    {
        var serializers = new MarkedStringSerializerFactory();
        using var host = TestCacheHost.CacheAside(builder: b => b
            .UseMemoryProvider(o => o.SerializeValues = true)
            .AddSerializerFactory(serializers));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        host.Database.Seed(1, MarkedStringSerializer.CorruptMarker + " row").Seed(2, "fine");

        Assert.Equal("CORRUPT row", await host.Strategy.GetAsync(1));
        Assert.Equal("fine", await host.Strategy.GetAsync(2));
        Assert.Equal("fine", await host.Strategy.GetAsync(2));

        var reread = await host.Strategy.GetAsync(1);

        Assert.Equal("CORRUPT row", reread);
        Assert.Equal([1, 2, 1], host.Database.LoadedKeys);
        Assert.True(serializers.Serializer.Deserializations >= 2);
        Assert.Equal(1, evictions.Total("reason", "corrupt"));
        var error = Assert.Single(host.Logs.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Contains("String:1", error.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(error.Exception);
    }

    [Fact]
    public async Task Corrupt_entry_read_through_the_ad_hoc_cache_is_not_found()
    {
        var serializers = new MarkedStringSerializerFactory();
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.SerializeValues = true)
            .AddSerializerFactory(serializers));
        var cache = host.Services.GetRequiredService<ICache>();
        await cache.SetAsync("greeting", MarkedStringSerializer.CorruptMarker + "!");

        var (found, value) = await cache.TryGetAsync<string>("greeting");

        Assert.False(found);
        Assert.Null(value);
        Assert.Equal(1, serializers.Serializer.Deserializations);
        Assert.False((await cache.TryGetAsync<string>("greeting")).Found);
        Assert.Equal(1, serializers.Serializer.Deserializations);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains("greeting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registered_serializer_factory_is_used_instead_of_json()
    {
        var serializers = new MarkedStringSerializerFactory();
        using var host = TestCacheHost.CacheAside(builder: b => b
            .UseMemoryProvider(o => o.SerializeValues = true)
            .AddSerializerFactory(serializers));
        host.Database.Seed(1, "one");

        await host.Strategy.GetAsync(1);
        Assert.Equal("one", await host.Strategy.GetAsync(1));

        Assert.Equal(1, serializers.Serializer.Deserializations);
    }

    private static TestCacheHost BasketHost(bool serialize) => TestCacheHost.Create(b => b
        .UseMemoryProvider(o => o.SerializeValues = serialize)
        .AddStrategy<int, Basket>(CacheStrategyKind.CacheAside, _ => new BasketLoader()));

    public sealed class Basket
    {
        public string Owner { get; set; } = string.Empty;

        public List<string> Items { get; set; } = [];
    }

    private sealed class BasketLoader : ICacheLoader<int, Basket>
    {
        public ValueTask<LoadResult<Basket>> LoadAsync(int key, CancellationToken cancellationToken) =>
            ValueTask.FromResult(LoadResult.Found(new Basket { Owner = "alice", Items = ["apple"] }));
    }
}
