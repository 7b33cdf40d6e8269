using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CachePatterns.Tests.Validation;

/// <summary>Invalid options fail the host at start, with messages naming the setting and the bad value.</summary>
public class OptionsValidationTests
{
    [Fact]
    public async Task Negative_strategy_Expiration_fails_the_host_at_start()
    {
        var ex = await StartFailing(b => b.AddCacheAside<int, string, TestDatabase>(o => o.Expiration = TimeSpan.FromSeconds(-1)));

        Assert.Contains("Expiration must be positive", ex.Message, StringComparison.Ordinal);
        Assert.Contains("-00:00:01", ex.Message, StringComparison.Ordinal);
        Assert.Contains("System.String", ex.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(CacheStrategyOptions), ex.OptionsType);
    }

    [Fact]
    public async Task Jitter_above_one_half_fails_the_host_at_start()
    {
        var ex = await StartFailing(b => b.AddCacheAside<int, string, TestDatabase>(o => o.Jitter = 0.9));

        Assert.Contains("Jitter must be between 0 and 0.5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0.9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undefined_EvictionPolicy_fails_the_host_at_start()
    {
        var ex = await StartFailing(b => b.UseMemoryProvider(o => o.EvictionPolicy = (CachePatterns.Memory.MemoryEvictionPolicy)7));

        Assert.Contains("EvictionPolicy 7 is not a MemoryEvictionPolicy", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zero_MaxEntries_fails_the_host_at_start()
    {
        var ex = await StartFailing(b => b.UseMemoryProvider(o => o.MaxEntries = 0));

        Assert.Contains("MaxEntries must be at least 1, but was 0", ex.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(CachePatterns.Memory.MemoryCacheProviderOptions), ex.OptionsType);
    }

    [Fact]
    public async Task FailureRatio_above_one_fails_the_host_at_start()
    {
        var ex = await StartFailing(b => b.ConfigureResilience(o => o.FailureRatio = 2));

        Assert.Contains("FailureRatio must be in (0, 1], but was 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_ad_hoc_defaults_fail_the_host_at_start()
    {
        var ex = await StartFailing(b => b.ConfigureDefaults(o => o.NegativeCacheExpiration = TimeSpan.Zero));

        Assert.Contains("NegativeCacheExpiration must be positive or null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_names_the_cache_of_a_named_cache()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddCachePatterns("orders").UseMemoryProvider(o => o.MaxValueBytes = -1);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("MemoryCacheProviderOptions 'orders'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxValueBytes must be positive, but was -1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_options_start_and_the_strategy_works()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(new TestDatabase().Seed(1, "one"));
        builder.Services.AddCachePatterns()
            .UseMemoryProvider(o => o.MaxEntries = 10)
            .ConfigureResilience(o => o.FailureRatio = 1)
            .AddCacheAside<int, string, TestDatabase>(o =>
            {
                o.Jitter = 0.5;
                o.Expiration = TimeSpan.FromSeconds(1);
            });
        using var host = builder.Build();

        await host.StartAsync();

        var strategy = host.Services.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("one", await strategy.GetAsync(1));
        await host.StopAsync();
    }

    private static async Task<OptionsValidationException> StartFailing(Action<CachePatternsBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(new TestDatabase());
        configure(builder.Services.AddCachePatterns());
        using var host = builder.Build();

        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }
}
