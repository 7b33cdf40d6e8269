using CachePatterns.Memory;
using CachePatterns.Memory.Internal;
using CachePatterns.Providers;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Memory;

/// <summary>MaxKeyLength and MaxValueBytes of the in-memory provider.</summary>
public class MemoryCacheLimitsTests
{
    [Fact]
    public async Task Key_over_MaxKeyLength_throws_an_ArgumentException_naming_the_key_and_the_limit()
    {
        using var host = TestCacheHost.Create(b => b.UseMemoryProvider(o => o.MaxKeyLength = 16));
        var cache = host.Services.GetRequiredService<ICache>();
        var key = "customer:" + new string('9', 31);
        var loads = 0;

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await cache.GetOrLoadAsync(key, _ => ValueTask.FromResult(++loads)));

        Assert.Equal("key", ex.ParamName);
        Assert.Contains("customer:999", ex.Message, StringComparison.Ordinal);
        Assert.Contains("40 characters", ex.Message, StringComparison.Ordinal);
        Assert.Contains("16", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, loads);
    }

    [Fact]
    public async Task Key_at_MaxKeyLength_is_accepted()
    {
        using var host = TestCacheHost.Create(b => b.UseMemoryProvider(o => o.MaxKeyLength = 16));
        var cache = host.Services.GetRequiredService<ICache>();
        var key = new string('k', 16);

        await cache.SetAsync(key, 42);

        Assert.Equal((true, 42), await cache.TryGetAsync<int>(key));
    }

    [Fact]
    public async Task Key_over_MaxKeyLength_is_refused_by_every_store_operation()
    {
        using var provider = new MemoryCacheProvider(Options.Create(new MemoryCacheProviderOptions { MaxKeyLength = 4 }), new FakeTimeProvider());
        var store = provider.CreateStore(new CacheStoreDescriptor<string, string>("limits", "l:", new MarkedStringSerializer()));
        var options = new StoreEntryOptions(TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetAsync("12345", true, default));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.SetAsync("12345", CacheValue<string>.Of("v"), options, default));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.InvalidateAsync("12345", default));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.BeginWriteAsync("12345", default));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.RefreshAsync("12345", default));
        Assert.Equal(0, ((MemoryCacheStore<string, string>)store).FenceCount);
    }

    [Fact]
    public async Task Value_over_MaxValueBytes_throws_CacheValueTooLargeException_naming_key_and_size()
    {
        using var provider = new MemoryCacheProvider(Options.Create(new MemoryCacheProviderOptions { MaxValueBytes = 10 }), new FakeTimeProvider());
        var store = provider.CreateStore(new CacheStoreDescriptor<int, string>("limits", "product:", new MarkedStringSerializer()) { SizeOf = s => s.Length });

        var ex = await Assert.ThrowsAsync<CacheValueTooLargeException>(async () =>
            await store.SetAsync(7, CacheValue<string>.Of(new string('x', 11)), new StoreEntryOptions(TimeSpan.FromMinutes(1)), default));

        Assert.Equal("product:7", ex.Key);
        Assert.Equal(11, ex.Size);
        Assert.Equal(10, ex.Limit);
        Assert.Contains("'product:7'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("11 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("10 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(7, false, default)).Status);

        await store.SetAsync(7, CacheValue<string>.Of(new string('x', 10)), new StoreEntryOptions(TimeSpan.FromMinutes(1)), default);
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(7, false, default)).Status);
    }

    [Fact]
    public async Task Too_large_fill_is_refused_and_gives_its_lease_back()
    {
        using var provider = new MemoryCacheProvider(Options.Create(new MemoryCacheProviderOptions { MaxValueBytes = 10 }), new FakeTimeProvider());
        var store = (MemoryCacheStore<int, string>)provider.CreateStore(new CacheStoreDescriptor<int, string>("limits", "p:", new MarkedStringSerializer()) { SizeOf = s => s.Length });
        var lease = (await store.GetAsync(1, true, default)).Lease;

        await Assert.ThrowsAsync<CacheValueTooLargeException>(async () =>
            await store.FillAsync(1, lease, CacheValue<string>.Of(new string('x', 100)), new StoreEntryOptions(TimeSpan.FromMinutes(1)), default));

        Assert.Equal(0, store.FenceCount);
    }

    [Fact]
    public async Task Ad_hoc_set_of_a_too_large_serialized_value_throws_and_stores_nothing()
    {
        using var host = TestCacheHost.Create(b => b.UseMemoryProvider(o =>
        {
            o.MaxValueBytes = 16;
            o.SerializeValues = true;
        }));
        var cache = host.Services.GetRequiredService<ICache>();

        var ex = await Assert.ThrowsAsync<CacheValueTooLargeException>(async () => await cache.SetAsync("report", new string('r', 100)));

        Assert.Contains("report", ex.Message, StringComparison.Ordinal);
        Assert.Equal(102, ex.Size);
        Assert.False((await cache.TryGetAsync<string>("report")).Found);
    }

    [Fact]
    public async Task Too_large_loaded_value_is_returned_but_not_cached_and_a_warning_is_logged()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.MaxValueBytes = 10)
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, sp => sp.GetRequiredService<TestDatabase>(), sizeOf: s => s.Length));
        var big = new string('b', 50);
        host.Database.Seed(1, big);

        Assert.Equal(big, await host.Strategy.GetAsync(1));
        Assert.Equal(big, await host.Strategy.GetAsync(1));

        Assert.Equal(2, host.Database.LoadCount);
        var warnings = host.Logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning && r.Message.Contains("was not cached", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("50 bytes", warnings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_through_of_a_too_large_value_succeeds_in_the_database_and_drops_the_old_cached_value()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.MaxValueBytes = 10)
            .AddStrategy<int, string>(
                CacheStrategyKind.WriteThrough,
                sp => sp.GetRequiredService<TestDatabase>(),
                sp => sp.GetRequiredService<TestDatabase>(),
                sizeOf: s => s.Length));
        await host.Strategy.WriteAsync(1, "small");
        Assert.Equal("small", await host.Strategy.GetAsync(1));

        var big = new string('b', 50);
        await host.Strategy.WriteAsync(1, big);

        Assert.Equal(big, host.Database.Row(1));
        Assert.Equal(big, await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }
}
