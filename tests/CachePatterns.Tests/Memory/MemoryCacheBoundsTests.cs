using CachePatterns.Diagnostics;
using CachePatterns.Internal;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Memory;

/// <summary>The in-memory provider's bounds: entry count, bytes, and the expiration sweep.</summary>
public class MemoryCacheBoundsTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(50)]
    public async Task Entry_count_stays_within_MaxEntries_and_capacity_evictions_are_counted(int maxEntries)
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o => o.MaxEntries = maxEntries));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        const int inserted = 500;
        for (var key = 0; key < inserted; key++)
        {
            host.Database.Seed(key, $"v{key}");
            await host.Strategy.GetAsync(key);
            Assert.InRange((await StoreSize(host)).Entries, 1, maxEntries);
        }

        var (entries, _) = await StoreSize(host);
        Assert.Equal(inserted - entries, evictions.Total("reason", "capacity"));
        Assert.Equal(0, evictions.Total("reason", "size"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Tiny_MaxEntries_is_honoured_too(int maxEntries)
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o => o.MaxEntries = maxEntries));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 20; key++)
        {
            host.Database.Seed(key, $"v{key}");
            Assert.Equal($"v{key}", await host.Strategy.GetAsync(key));
            Assert.InRange((await StoreSize(host)).Entries, 1, maxEntries);
        }

        // The most recently stored entry is the one kept.
        Assert.Equal("v19", await host.Strategy.GetAsync(19));
        Assert.Equal(20, host.Database.LoadCount);
        Assert.Equal(20 - maxEntries, evictions.Total("reason", "capacity"));
        Assert.Equal(0, evictions.Total("reason", "size"));
    }

    [Fact]
    public async Task Most_recently_used_entries_survive_capacity_eviction()
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o => o.MaxEntries = 10));
        host.Database.Seed(0, "hot");
        await host.Strategy.GetAsync(0);
        for (var key = 1; key < 100; key++)
        {
            host.Database.Seed(key, $"v{key}");
            await host.Strategy.GetAsync(key);
            await host.Strategy.GetAsync(0);
        }

        Assert.Equal(1, host.Database.LoadedKeys.Count(k => k == 0));
    }

    [Fact]
    public async Task Bytes_stay_within_MaxBytes_with_a_size_function_and_size_evictions_are_counted()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.MaxBytes = 100)
            .AddStrategy<int, string>(
                CacheStrategyKind.CacheAside,
                sp => sp.GetRequiredService<TestDatabase>(),
                configure: o => o.Jitter = 0,
                sizeOf: s => s.Length));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 20; key++)
        {
            host.Database.Seed(key, new string('x', 30));
            await host.Strategy.GetAsync(key);
            Assert.InRange((await StoreSize(host)).Bytes, 30, 100);
        }

        var (entries, bytes) = await StoreSize(host);
        Assert.Equal(3, entries);
        Assert.Equal(90, bytes);
        Assert.Equal(17, evictions.Total("reason", "size"));
        Assert.Equal(0, evictions.Total("reason", "capacity"));
    }

    [Fact]
    public async Task Overwriting_an_entry_replaces_its_size_instead_of_adding_to_it()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.MaxBytes = 1000)
            .AddStrategy<int, string>(
                CacheStrategyKind.WriteThrough,
                sp => sp.GetRequiredService<TestDatabase>(),
                sp => sp.GetRequiredService<TestDatabase>(),
                configure: o => o.Jitter = 0,
                sizeOf: s => s.Length));

        for (var i = 0; i < 100; i++)
        {
            await host.Strategy.WriteAsync(1, new string('x', 10 + (i % 3)));
        }

        Assert.Equal((1, 10L), await StoreSize(host));
        await host.Strategy.InvalidateAsync(1);
        Assert.Equal((0, 0L), await StoreSize(host));
    }

    [Fact]
    public async Task Bytes_stay_within_MaxBytes_with_serialized_values()
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o =>
        {
            o.MaxBytes = 100;
            o.SerializeValues = true;
        }));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 10; key++)
        {
            // JSON adds the two quotes: 40 bytes per entry.
            host.Database.Seed(key, new string('y', 38));
            Assert.Equal(new string('y', 38), await host.Strategy.GetAsync(key));
        }

        var (entries, bytes) = await StoreSize(host);
        Assert.Equal(2, entries);
        Assert.Equal(80, bytes);
        Assert.Equal(8, evictions.Total("reason", "size"));
    }

    [Fact]
    public async Task MaxBytes_without_a_size_function_measures_the_serialized_length()
    {
        using var host = TestCacheHost.CacheAside(builder: b => b.UseMemoryProvider(o => o.MaxBytes = 100));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 10; key++)
        {
            host.Database.Seed(key, new string('x', 40));
            await host.Strategy.GetAsync(key);
        }

        // 42 bytes of JSON each: two fit in 100 bytes, the rest were trimmed by size.
        var held = 0;
        for (var key = 0; key < 10; key++)
        {
            held += (await host.Strategy.TryGetAsync(key)).Found ? 1 : 0;
        }

        Assert.InRange(held, 1, 2);
        Assert.Contains(evictions.GetMeasurementSnapshot(), m => (string?)m.Tags["reason"] == "size");
    }

    [Fact]
    public async Task Expired_entries_are_removed_by_the_scan_timer()
    {
        using var host = TestCacheHost.CacheAside(
            o => o.Expiration = TimeSpan.FromSeconds(30),
            b => b.UseMemoryProvider(o => o.ExpirationScanInterval = TimeSpan.FromMinutes(1)));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        for (var key = 0; key < 5; key++)
        {
            host.Database.Seed(key, $"v{key}");
            await host.Strategy.GetAsync(key);
        }

        host.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(5, (await StoreSize(host)).Entries);
        Assert.Equal(0, evictions.Total("reason", "expired"));

        host.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, (await StoreSize(host)).Entries);
        Assert.Equal(5, evictions.Total("reason", "expired"));
    }

    [Fact]
    public async Task Scan_keeps_fresh_entries_and_entries_retained_for_fail_safe()
    {
        using var host = TestCacheHost.CacheAside(
            o =>
            {
                o.Expiration = TimeSpan.FromSeconds(30);
                o.FailSafeMaxStaleness = TimeSpan.FromMinutes(5);
            },
            b => b.UseMemoryProvider(o => o.ExpirationScanInterval = TimeSpan.FromMinutes(1)));
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        host.Database.Seed(1, "retained");
        await host.Strategy.GetAsync(1);

        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, (await StoreSize(host)).Entries);
        Assert.Equal(0, evictions.Total("reason", "expired"));

        host.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, (await StoreSize(host)).Entries);
        Assert.Equal(1, evictions.Total("reason", "expired"));
    }

    [Fact]
    public async Task Explicit_invalidation_is_counted_as_removed()
    {
        using var host = TestCacheHost.CacheAside();
        using var evictions = host.Counter(CacheDiagnostics.Evictions);
        host.Database.Seed(1, "one");
        await host.Strategy.GetAsync(1);

        await host.Strategy.InvalidateAsync(1);
        await host.Strategy.InvalidateAsync(1);

        Assert.Equal(1, evictions.Total("reason", "removed"));
        Assert.Equal(1, evictions.Total());
    }

    private static async Task<(int Entries, long Bytes)> StoreSize(TestCacheHost host, string store = "String")
    {
        var provider = host.Services.GetRequiredKeyedService<CacheInstance>(CachePatternsBuilder.DefaultCacheName).Provider;
        var health = await provider.CheckHealthAsync();
        Assert.NotNull(health.Data);
        return ((int)health.Data[store + ".entries"], (long)health.Data[store + ".bytes"]);
    }
}
