using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using CachePatterns.Providers;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CachePatterns.Tests.Resilience;

/// <summary>
/// The ledger of lost invalidations never forgets silently (overflow sweeps, or bypasses until entries expired), and a
/// full provider is not an outage (hits keep being served, refused writes remove the key). On a fake clock.
/// </summary>
public sealed class InvalidationLedgerTests : IAsyncDisposable
{
    private readonly LedgerTestHost _host = LedgerTestHost.Create(b => b.AddHealthCheck());

    public InvalidationLedgerTests()
    {
        for (var k = 0; k < 10; k++)
        {
            _host.Database.Seed(k, $"old-{k}");
        }
    }

    [Fact]
    public async Task Overflow_is_logged_once_bypasses_the_cache_and_sweeps_the_prefix_once_the_provider_answers()
    {
        await WarmAsync();
        _host.Provider.Mode = ProviderMode.Down;
        for (var k = 0; k < 5; k++)
        {
            await _host.Strategy.WriteAsync(k, $"new-{k}");
        }

        Assert.Single(_host.Logs.GetSnapshot(), r => r.Message.Contains("More than 2 invalidations", StringComparison.Ordinal));
        Assert.True(_host.Logs.GetSnapshot().Count(r => r.Message.Contains("Invalidation of a key", StringComparison.Ordinal)) <= 1, "deferred invalidations are logged once per interval");

        // The provider is back but nothing has been swept yet: this strategy reads nothing from the cache (no old row).
        _host.Provider.Mode = ProviderMode.Up;
        var loads = _host.Database.Loads;
        Assert.Equal("new-4", await _host.Strategy.GetAsync(4));
        Assert.Equal("old-7", await _host.Strategy.GetAsync(7));
        Assert.Equal("old-7", await _host.Strategy.GetAsync(7));
        Assert.Equal(loads + 3, _host.Database.Loads);
        Assert.Empty(_host.Provider.Swept);

        // The ledger's timer sweeps once the break is over (the sweep is the probe that closes the circuit).
        await _host.AdvanceUntilAsync(() => _host.Provider.Swept.Count > 0);
        Assert.Equal(["String:"], _host.Provider.Swept);
        Assert.Contains(_host.Logs.GetSnapshot(), r => r.Message.Contains("Swept key prefix 'String:'", StringComparison.Ordinal));

        // The cache is used again: a read fills, the next one hits.
        Assert.Equal("old-8", await _host.Strategy.GetAsync(8));
        loads = _host.Database.Loads;
        Assert.Equal("old-8", await _host.Strategy.GetAsync(8));
        Assert.Equal(loads, _host.Database.Loads);
    }

    [Fact]
    public async Task Without_a_sweep_the_strategy_bypasses_the_cache_until_every_entry_older_than_the_loss_has_expired()
    {
        _host.Provider.CanSweep = false;
        await WarmAsync();
        _host.Provider.Mode = ProviderMode.Down;
        for (var k = 0; k < 3; k++)
        {
            await _host.Strategy.WriteAsync(k, $"new-{k}");
        }

        Assert.Contains(_host.Logs.GetSnapshot(), r => r.Message.Contains("cannot sweep", StringComparison.Ordinal));
        _host.Provider.Mode = ProviderMode.Up;

        // Half the longest lifetime later the old entries may still be there: still bypassed.
        await AdvanceAsync(TimeSpan.FromSeconds(30));
        var loads = _host.Database.Loads;
        Assert.Equal("old-8", await _host.Strategy.GetAsync(8));
        Assert.Equal("old-8", await _host.Strategy.GetAsync(8));
        Assert.Equal(loads + 2, _host.Database.Loads);

        await _host.AdvanceUntilAsync(() => _host.Logs.GetSnapshot().Any(r => r.Message.Contains("are accounted for", StringComparison.Ordinal)));
        Assert.Equal("new-1", await _host.Strategy.GetAsync(1));
        loads = _host.Database.Loads;
        Assert.Equal("new-1", await _host.Strategy.GetAsync(1));
        Assert.Equal(loads, _host.Database.Loads);
    }

    [Fact]
    public async Task A_full_provider_keeps_serving_hits_refuses_fills_removes_instead_of_writing_and_reports_it()
    {
        using var refused = new MetricCollector<long>(_host.Services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.WritesRefused);
        await WarmAsync();
        _host.Provider.Mode = ProviderMode.Full;

        // Hits are still served, over and over: a refused write is not an outage, the circuit stays closed.
        var loads = _host.Database.Loads;
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"old-{i % 5}", await _host.Strategy.GetAsync(i % 5));
        }

        Assert.Equal(loads, _host.Database.Loads);

        // A miss is loaded and not cached; a write reaches the database and its key is removed, not left old.
        _host.Database.Seed(15, "old-15");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("old-15", await _host.Strategy.GetAsync(15));
        }

        await _host.Strategy.WriteAsync(1, "new-1");
        Assert.Equal("new-1", await _host.Strategy.GetAsync(1));
        Assert.Equal("old-2", await _host.Strategy.GetAsync(2));
        Assert.DoesNotContain(_host.Logs.GetSnapshot(), r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal));
        Assert.True(refused.GetMeasurementSnapshot().Sum(m => m.Value) >= 20);
        Assert.Single(_host.Logs.GetSnapshot(), r => r.Message.Contains("is full", StringComparison.Ordinal));

        var report = await _host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("full", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_names_the_cause_while_the_circuit_is_open()
    {
        await WarmAsync();
        _host.Provider.Mode = ProviderMode.Down;
        for (var i = 0; i < 30; i++)
        {
            await _host.Strategy.GetAsync(i % 10);
        }

        _host.Provider.Signal(CacheConnectionState.Lost, CacheProviderFailureReason.Authentication);
        var report = await _host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("circuit open", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
        Assert.Contains("authentication", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private async Task WarmAsync()
    {
        for (var k = 0; k < 10; k++)
        {
            Assert.Equal($"old-{k}", await _host.Strategy.GetAsync(k));
        }
    }

    private async Task AdvanceAsync(TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromMilliseconds(500))
        {
            _host.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Yield();
        }
    }
}
