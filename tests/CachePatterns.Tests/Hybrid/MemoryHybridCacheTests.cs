using CachePatterns.Hybrid;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Hybrid;

/// <summary>The HybridCache adapter on the in-memory provider: the conformance tests, and expiration on a fake clock.</summary>
public sealed class MemoryHybridCacheTests : HybridCacheConformance
{
    private readonly FakeTimeProvider _time = new();

    protected override bool SerializesValues => false;

    protected override ServiceProvider CreateServices(Action<CachePatternsHybridCacheOptions>? options = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(_time);
        collection.AddFakeLogging();
        services?.Invoke(collection);
        collection.AddCachePatterns().ConfigureDefaults(o => o.Jitter = 0).AddHybridCache(options);
        return collection.BuildServiceProvider(validateScopes: true);
    }

    protected override ServiceProvider? CreatePeer() => null;

    [Fact]
    public async Task An_entry_expires_after_its_Expiration_and_the_factory_runs_again()
    {
        await using var services = CreateServices();
        var cache = services.GetRequiredService<HybridCache>();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) };
        var runs = 0;

        await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(1, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(2, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options));
    }

    [Theory]
    [InlineData(10, 60, 10)]
    [InlineData(60, 10, 10)]
    [InlineData(null, 20, 20)]
    public async Task In_memory_the_local_expiration_applies_never_longer_than_the_overall_one(int? localSeconds, int overallSeconds, int expectedSeconds)
    {
        await using var services = CreateServices();
        var cache = services.GetRequiredService<HybridCache>();
        var options = new HybridCacheEntryOptions
        {
            Expiration = TimeSpan.FromSeconds(overallSeconds),
            LocalCacheExpiration = localSeconds is { } l ? TimeSpan.FromSeconds(l) : null,
        };
        var runs = 0;

        await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options);
        _time.Advance(TimeSpan.FromSeconds(expectedSeconds) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), options));
    }

    [Fact]
    public async Task Default_entry_options_give_the_expiration_of_calls_without_one()
    {
        await using var services = CreateServices(o => o.DefaultEntryOptions = new() { Expiration = TimeSpan.FromSeconds(30) });
        var cache = services.GetRequiredService<HybridCache>();
        var runs = 0;

        await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs));
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(2, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs)));
    }

    [Fact]
    public async Task A_named_cache_gets_its_own_keyed_HybridCache()
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(_time);
        collection.AddCachePatterns("reports").AddHybridCache();
        await using var services = collection.BuildServiceProvider();

        var reports = services.GetRequiredKeyedService<HybridCache>("reports");

        Assert.Equal(1, await reports.GetOrCreateAsync("k", _ => ValueTask.FromResult(1)));
        Assert.Null(services.GetService<HybridCache>());
    }

    [Fact]
    public void Bad_options_fail_at_start_naming_the_setting_and_value()
    {
        var collection = new ServiceCollection();
        collection.AddCachePatterns().AddHybridCache(o => o.MaximumKeyLength = 0);
        using var services = collection.BuildServiceProvider();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => services.GetRequiredService<HybridCache>());

        Assert.Contains("MaximumKeyLength must be at least 1, but was 0", ex.Message, StringComparison.Ordinal);
    }
}
