using CachePatterns.Distributed;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Distributed;

/// <summary>
/// The IDistributedCache adapter is a store by default: a provider failure is reported (CacheUnavailableException), a
/// read never answers "absent" for "could not ask", and a failed write is never turned into a delete.
/// </summary>
public sealed class StoreSemanticsTests : IAsyncDisposable
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
    private readonly FlakyProvider _provider;
    private readonly ServiceProvider _services;

    public StoreSemanticsTests()
    {
        _provider = new FlakyProvider(_time);
        _services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddMetrics()
            .AddLogging(b => b.AddFakeLogging())
            .AddCachePatterns()
            .UseProvider(_ => _provider)
            .ConfigureResilience(o =>
            {
                o.MinimumThroughput = 100;
                o.BreakDuration = TimeSpan.FromSeconds(5);
            })
            .AddDistributedCache(o =>
            {
                o.OperationTimeout = TimeSpan.FromMilliseconds(200);
                o.RetryDelay = TimeSpan.Zero;
            })
            .Services.BuildServiceProvider();
    }

    private IDistributedCache Cache => _services.GetRequiredService<IDistributedCache>();

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    [Fact]
    public async Task A_read_the_provider_cannot_answer_is_unavailable_not_absent()
    {
        await Cache.SetAsync("session", [1], NoExpiry);
        _provider.Mode = ProviderMode.Down;

        var ex = await Assert.ThrowsAsync<CacheUnavailableException>(() => Cache.GetAsync("session"));
        Assert.Throws<CacheUnavailableException>(() => Cache.Get("session"));

        Assert.Equal("get", ex.Operation);
        Assert.Equal(3, ex.Attempts);
        Assert.IsType<Providers.CacheProviderException>(ex.InnerException);
        Assert.Equal(Providers.CacheProviderFailureReason.ConnectionRefused, ex.Reason);
        Assert.Contains("unknown (not absent)", ex.Message, StringComparison.Ordinal);
        _provider.Mode = ProviderMode.Up;
        Assert.Equal([1], await Cache.GetAsync("session"));
    }

    [Fact]
    public async Task A_write_that_fails_is_retried_then_reported_and_never_deletes_the_stored_value()
    {
        await Cache.SetAsync("session", [1], NoExpiry);
        _provider.Mode = ProviderMode.Down;
        var calls = _provider.Calls;

        var set = await Assert.ThrowsAsync<CacheUnavailableException>(() => Cache.SetAsync("session", [2], NoExpiry));
        var remove = await Assert.ThrowsAsync<CacheUnavailableException>(() => Cache.RemoveAsync("session"));
        await Assert.ThrowsAsync<CacheUnavailableException>(() => Cache.RefreshAsync("session"));

        Assert.Equal(("set", 3), (set.Operation, set.Attempts));
        Assert.Equal(("remove", 3), (remove.Operation, remove.Attempts));
        Assert.Equal(9, _provider.Calls - calls);

        // The provider is back: nothing was remembered to be replayed as a delete, so the last confirmed write stays.
        _provider.Mode = ProviderMode.Up;
        Assert.Equal([1], await Cache.GetAsync("session"));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal([1], await Cache.GetAsync("session"));
    }

    [Fact]
    public async Task A_remove_that_failed_then_a_set_that_succeeded_leaves_the_new_value()
    {
        await Cache.SetAsync("session", [1], NoExpiry);
        _provider.Mode = ProviderMode.Down;
        await Assert.ThrowsAsync<CacheUnavailableException>(() => Cache.RemoveAsync("session"));
        _provider.Mode = ProviderMode.Up;

        await Cache.SetAsync("session", [2], NoExpiry);
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal([2], await Cache.GetAsync("session"));
        Assert.Equal([2], await Cache.GetAsync("session"));
    }

    [Fact]
    public async Task A_write_that_times_out_on_every_attempt_is_reported_after_the_attempts_and_their_timeouts()
    {
        _provider.Mode = ProviderMode.Hanging;

        var set = Cache.SetAsync("session", [1], NoExpiry);
        for (var i = 0; i < 100 && !set.IsCompleted; i++)
        {
            await Task.Delay(5);
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        var ex = await Assert.ThrowsAsync<CacheUnavailableException>(() => set);
        Assert.Equal(3, ex.Attempts);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Equal(Providers.CacheProviderFailureReason.Timeout, ex.Reason);
        Assert.Equal(3, _provider.Calls);
    }

    [Fact]
    public async Task An_open_circuit_fails_store_calls_fast_but_never_turns_a_write_into_a_silent_no_op()
    {
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddLogging(b => b.AddFakeLogging())
            .AddCachePatterns()
            .UseProvider(_ => _provider)
            .ConfigureResilience(o =>
            {
                o.MinimumThroughput = 3;
                o.FailureRatio = 0.5;
            })
            .AddDistributedCache(o => o.RetryDelay = TimeSpan.Zero)
            .Services.BuildServiceProvider();
        var cache = services.GetRequiredService<IDistributedCache>();
        _provider.Mode = ProviderMode.Down;
        await Assert.ThrowsAsync<CacheUnavailableException>(() => cache.GetAsync("k"));
        var calls = _provider.Calls;

        var ex = await Assert.ThrowsAsync<CacheUnavailableException>(() => cache.SetAsync("k", [1], NoExpiry));

        Assert.Equal(0, ex.Attempts);
        Assert.Equal(calls, _provider.Calls);
        Assert.Contains("circuit breaker is open", ex.Message, StringComparison.Ordinal);

        // Failures are logged once per call that reached the provider, as one warning each; skipped calls only counted.
        var warnings = services.GetRequiredService<FakeLogCollector>().GetSnapshot().Where(r => r.Level == LogLevel.Warning && r.Id.Id == 41).ToList();
        Assert.Single(warnings);
    }

    [Fact]
    public async Task Cache_semantics_keep_the_old_behaviour_failures_are_misses()
    {
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddLogging()
            .AddCachePatterns()
            .UseProvider(_ => _provider)
            .AddDistributedCache(o => o.Semantics = DistributedCacheSemantics.Cache)
            .Services.BuildServiceProvider();
        var cache = services.GetRequiredService<IDistributedCache>();
        _provider.Mode = ProviderMode.Down;

        Assert.Null(await cache.GetAsync("k"));
        await cache.SetAsync("k", [1], NoExpiry);
    }

    [Fact]
    public void Bad_options_are_refused_at_start_naming_the_setting_and_value()
    {
        using var services = new ServiceCollection()
            .AddCachePatterns()
            .AddDistributedCache(o =>
            {
                o.MaxAttempts = 0;
                o.MaxEntries = -1;
            })
            .Services.BuildServiceProvider();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => services.GetRequiredService<IDistributedCache>());
        Assert.Contains("MaxAttempts must be between 1 and 100, but was 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxEntries must be at least 1, but was -1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sessions_cannot_share_their_key_prefix_with_a_strategy_whichever_is_created_first()
    {
        using var strategyFirst = TestCacheHost.CacheAside(o => o.KeyPrefix = "dc", b => b.AddDistributedCache());
        _ = strategyFirst.Strategy;
        var ex = Assert.Throws<InvalidOperationException>(() => strategyFirst.Services.GetRequiredService<IDistributedCache>());
        Assert.Contains("IDistributedCache would use the key prefix 'dc:'", ex.Message, StringComparison.Ordinal);

        using var sessionsFirst = TestCacheHost.CacheAside(o => o.KeyPrefix = "dc", b => b.AddDistributedCache());
        _ = sessionsFirst.Services.GetRequiredService<IDistributedCache>();
        ex = Assert.Throws<InvalidOperationException>(() => sessionsFirst.Strategy);
        Assert.Contains("of IDistributedCache", ex.Message, StringComparison.Ordinal);
    }
}
