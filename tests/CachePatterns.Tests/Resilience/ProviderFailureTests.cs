using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using System.Diagnostics.Metrics;

namespace CachePatterns.Tests.Resilience;

/// <summary>Cache failures never fail a read: the loader serves it, the error is counted and logged, and the breaker stops paying timeouts.</summary>
public sealed class ProviderFailureTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeDatabase _database = new();
    private readonly FlakyProvider _provider;
    private readonly FakeLogCollector _logs;
    private readonly ServiceProvider _services;
    private readonly ICacheStrategy<int, string> _strategy;
    private readonly MetricCollector<long> _errors;

    public ProviderFailureTests()
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
                o.MinimumThroughput = 4;
                o.FailureRatio = 0.5;
                o.BreakDuration = TimeSpan.FromSeconds(5);
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => _database, _ => _database, o => o.Jitter = 0)
            .AddHealthCheck()
            .Services.BuildServiceProvider();
        _strategy = _services.GetRequiredService<ICacheStrategy<int, string>>();
        _logs = _services.GetRequiredService<FakeLogCollector>();
        _errors = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.ProviderErrors);
        _database.Seed(1, "one");
        _database.Seed(2, "two");
    }

    [Fact]
    public async Task A_provider_that_throws_is_a_miss_served_by_the_loader_counted_and_logged()
    {
        _provider.Mode = ProviderMode.Down;

        Assert.Equal("one", await _strategy.GetAsync(1));
        Assert.Equal("one", await _strategy.GetAsync(1));

        Assert.Equal(2, _database.Loads);
        Assert.True(_errors.GetMeasurementSnapshot().Sum(m => m.Value) >= 2);
        Assert.Contains(_logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Exception is CachePatterns.Providers.CacheProviderException);
    }

    [Fact]
    public async Task A_hanging_provider_times_out_and_the_read_is_served_by_the_loader()
    {
        _provider.Mode = ProviderMode.Hanging;

        var read = _strategy.GetAsync(1).AsTask();
        await WaitForTimerAsync();
        _time.Advance(TimeSpan.FromMilliseconds(250));

        // One timeout is all the read pays: after the failed lookup it neither asks for a lease nor fills.
        Assert.Equal("one", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, _provider.Calls);
        Assert.Contains(_errors.GetMeasurementSnapshot(), m => (string?)m.Tags["operation"] == "get");
    }

    [Fact]
    public async Task The_circuit_opens_after_failures_stops_calling_the_provider_and_closes_when_it_recovers()
    {
        _provider.Mode = ProviderMode.Down;
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("one", await _strategy.GetAsync(1));
        }

        var callsWhenOpen = _provider.Calls;
        var warningsWhenOpen = _logs.GetSnapshot().Count(r => r.Level == LogLevel.Warning);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("two", await _strategy.GetAsync(2));
        }

        Assert.Equal(callsWhenOpen, _provider.Calls);
        Assert.Contains(_logs.GetSnapshot(), r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal));

        // Skipped calls are counted, not logged one by one: the opening was logged once.
        Assert.Equal(warningsWhenOpen, _logs.GetSnapshot().Count(r => r.Level == LogLevel.Warning));

        _provider.Mode = ProviderMode.Up;
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("one", await _strategy.GetAsync(1));
        Assert.True(_provider.Calls > callsWhenOpen, "The half-open probe never reached the recovered provider.");

        var loads = _database.Loads;
        Assert.Equal("one", await _strategy.GetAsync(1));
        Assert.Equal(loads, _database.Loads);
    }

    [Fact]
    public async Task A_write_whose_invalidation_failed_never_lets_the_old_value_be_read_once_the_provider_is_back()
    {
        Assert.Equal("one", await _strategy.GetAsync(1));
        Assert.Equal("one", await _strategy.GetAsync(1));

        _provider.Mode = ProviderMode.Down;
        await _strategy.WriteAsync(1, "uno");
        Assert.Equal("uno", _database.Rows[1]);

        _provider.Mode = ProviderMode.Up;
        Assert.Equal("uno", await _strategy.GetAsync(1));
        Assert.Equal("uno", await _strategy.GetAsync(1));
    }

    [Fact]
    public async Task The_health_check_reports_a_provider_that_does_not_answer_as_degraded()
    {
        var health = _services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        _provider.Mode = ProviderMode.Down;
        var report = await health.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("flaky", report.Entries["cachepatterns-default"].Description, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _errors.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Timeouts_open_the_circuit_but_callers_that_cancel_do_not()
    {
        _provider.Mode = ProviderMode.Hanging;

        // Readers that give up themselves say nothing about the provider: the circuit stays closed.
        for (var i = 0; i < 6; i++)
        {
            using var cancel = new CancellationTokenSource();
            var read = _strategy.GetAsync(1, cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        }

        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal));

        // Timeouts are provider failures: four of them (MinimumThroughput) open it, and later reads skip the provider.
        for (var i = 0; i < 4; i++)
        {
            var calls = _provider.Calls;
            var read = _strategy.GetAsync(2).AsTask();
            await WaitForCallsAsync(calls + 1);
            _time.Advance(TimeSpan.FromMilliseconds(250));
            Assert.Equal("two", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Contains(_logs.GetSnapshot(), r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal));
        var callsWhenOpen = _provider.Calls;
        Assert.Equal("two", await _strategy.GetAsync(2).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(callsWhenOpen, _provider.Calls);
    }

    private async Task WaitForCallsAsync(int calls)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_provider.Calls < calls)
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    private async Task WaitForTimerAsync()
    {
        // The timeout registers its timer on the fake clock as the call starts; yield until the call is in flight.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_provider.Calls == 0)
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }
}
