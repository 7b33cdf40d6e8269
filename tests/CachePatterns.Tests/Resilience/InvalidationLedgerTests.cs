using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using CachePatterns.Providers;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Resilience;

/// <summary>
/// The ledger of lost invalidations never forgets silently (overflow sweeps, or bypasses until entries expired), and a
/// full provider is not an outage (hits keep being served, refused writes remove the key). On a fake clock.
/// </summary>
public sealed class InvalidationLedgerTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeDatabase _database = new();
    private readonly FlakyProvider _provider;
    private readonly ServiceProvider _services;
    private readonly ICacheStrategy<int, string> _strategy;
    private readonly FakeLogCollector _logs;

    public InvalidationLedgerTests()
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
                o.OperationTimeout = TimeSpan.FromMilliseconds(200);
                o.BreakDuration = TimeSpan.FromSeconds(5);
                o.MaxPendingInvalidations = 2;
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => _database, _ => _database, o =>
            {
                o.Jitter = 0;
                o.Expiration = TimeSpan.FromMinutes(1);
            })
            .AddHealthCheck()
            .Services.BuildServiceProvider();
        _strategy = _services.GetRequiredService<ICacheStrategy<int, string>>();
        _logs = _services.GetRequiredService<FakeLogCollector>();
        for (var k = 0; k < 10; k++)
        {
            _database.Seed(k, $"old-{k}");
        }
    }

    [Fact]
    public async Task Overflow_is_logged_once_bypasses_the_cache_and_sweeps_the_prefix_once_the_provider_answers()
    {
        await WarmAsync();
        _provider.Mode = ProviderMode.Down;
        for (var k = 0; k < 5; k++)
        {
            await _strategy.WriteAsync(k, $"new-{k}");
        }

        Assert.Single(_logs.GetSnapshot(), r => r.Message.Contains("More than 2 invalidations", StringComparison.Ordinal));
        Assert.True(_logs.GetSnapshot().Count(r => r.Message.Contains("Invalidation of a key", StringComparison.Ordinal)) <= 1, "deferred invalidations are logged once per interval");

        // The provider is back but nothing has been swept yet: this strategy reads nothing from the cache (no old row).
        _provider.Mode = ProviderMode.Up;
        var loads = _database.Loads;
        Assert.Equal("new-4", await _strategy.GetAsync(4));
        Assert.Equal("old-7", await _strategy.GetAsync(7));
        Assert.Equal("old-7", await _strategy.GetAsync(7));
        Assert.Equal(loads + 3, _database.Loads);
        Assert.Empty(_provider.Swept);

        // The ledger's timer sweeps once the break is over (the sweep is the probe that closes the circuit).
        await AdvanceUntilAsync(() => _provider.Swept.Count > 0);
        Assert.Equal(["String:"], _provider.Swept);
        Assert.Contains(_logs.GetSnapshot(), r => r.Message.Contains("Swept key prefix 'String:'", StringComparison.Ordinal));

        // The cache is used again: a read fills, the next one hits.
        Assert.Equal("old-8", await _strategy.GetAsync(8));
        loads = _database.Loads;
        Assert.Equal("old-8", await _strategy.GetAsync(8));
        Assert.Equal(loads, _database.Loads);
    }

    [Fact]
    public async Task Without_a_sweep_the_strategy_bypasses_the_cache_until_every_entry_older_than_the_loss_has_expired()
    {
        _provider.CanSweep = false;
        await WarmAsync();
        _provider.Mode = ProviderMode.Down;
        for (var k = 0; k < 3; k++)
        {
            await _strategy.WriteAsync(k, $"new-{k}");
        }

        Assert.Contains(_logs.GetSnapshot(), r => r.Message.Contains("cannot sweep", StringComparison.Ordinal));
        _provider.Mode = ProviderMode.Up;

        // Half the longest lifetime later the old entries may still be there: still bypassed.
        await AdvanceAsync(TimeSpan.FromSeconds(30));
        var loads = _database.Loads;
        Assert.Equal("old-8", await _strategy.GetAsync(8));
        Assert.Equal("old-8", await _strategy.GetAsync(8));
        Assert.Equal(loads + 2, _database.Loads);

        await AdvanceUntilAsync(() => _logs.GetSnapshot().Any(r => r.Message.Contains("are accounted for", StringComparison.Ordinal)));
        Assert.Equal("new-1", await _strategy.GetAsync(1));
        loads = _database.Loads;
        Assert.Equal("new-1", await _strategy.GetAsync(1));
        Assert.Equal(loads, _database.Loads);
    }

    [Fact]
    public async Task A_full_provider_keeps_serving_hits_refuses_fills_removes_instead_of_writing_and_reports_it()
    {
        using var refused = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.WritesRefused);
        await WarmAsync();
        _provider.Mode = ProviderMode.Full;

        // Hits are still served, over and over: a refused write is not an outage, the circuit stays closed.
        var loads = _database.Loads;
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"old-{i % 5}", await _strategy.GetAsync(i % 5));
        }

        Assert.Equal(loads, _database.Loads);

        // A miss is loaded and not cached; a write reaches the database and its key is removed, not left old.
        _database.Seed(15, "old-15");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("old-15", await _strategy.GetAsync(15));
        }

        await _strategy.WriteAsync(1, "new-1");
        Assert.Equal("new-1", await _strategy.GetAsync(1));
        Assert.Equal("old-2", await _strategy.GetAsync(2));
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal));
        Assert.True(refused.GetMeasurementSnapshot().Sum(m => m.Value) >= 20);
        Assert.Single(_logs.GetSnapshot(), r => r.Message.Contains("is full", StringComparison.Ordinal));

        var report = await _services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("full", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_names_the_cause_while_the_circuit_is_open()
    {
        await WarmAsync();
        _provider.Mode = ProviderMode.Down;
        for (var i = 0; i < 30; i++)
        {
            await _strategy.GetAsync(i % 10);
        }

        _provider.Signal(CacheConnectionState.Lost, CacheProviderFailureReason.Authentication);
        var report = await _services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("circuit open", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
        Assert.Contains("authentication", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();

    private async Task WarmAsync()
    {
        for (var k = 0; k < 10; k++)
        {
            Assert.Equal($"old-{k}", await _strategy.GetAsync(k));
        }
    }

    private async Task AdvanceAsync(TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromMilliseconds(500))
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Yield();
        }
    }

    private async Task AdvanceUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(1);
        }

        Assert.True(condition(), "the condition never became true on the fake clock");
    }
}
