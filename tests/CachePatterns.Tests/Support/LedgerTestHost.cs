using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Support;

/// <summary>
/// The container the ledger tests (<c>InvalidationLedgerTests</c>, <c>TagLedgerTests</c>) run in: a
/// <see cref="FlakyProvider"/> behind the resilience settings the ledgers are tested with (200 ms operation timeout,
/// 5 s break, at most 2 pending invalidations), a cache-aside <c>int → string</c> strategy over a
/// <see cref="FakeDatabase"/> (no jitter, 1-minute entries), metrics and fake logging, all on a fake clock.
/// </summary>
public sealed class LedgerTestHost : IAsyncDisposable
{
    private LedgerTestHost(FakeTimeProvider time, FakeDatabase database, FlakyProvider provider, ServiceProvider services)
    {
        Time = time;
        Database = database;
        Provider = provider;
        Services = services;
        Strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        Logs = services.GetRequiredService<FakeLogCollector>();
    }

    public FakeTimeProvider Time { get; }

    public FakeDatabase Database { get; }

    public FlakyProvider Provider { get; }

    public ServiceProvider Services { get; }

    /// <summary>The cache-aside strategy over <see cref="Database"/>.</summary>
    public ICacheStrategy<int, string> Strategy { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>Builds the container; <paramref name="configure"/> adds what one test class needs after the strategy.</summary>
    public static LedgerTestHost Create(Action<CachePatternsBuilder> configure)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
        var database = new FakeDatabase();
        var provider = new FlakyProvider(time);
        var builder = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddMetrics()
            .AddLogging(b => b.AddFakeLogging())
            .AddCachePatterns()
            .UseProvider(_ => provider)
            .ConfigureResilience(o =>
            {
                o.OperationTimeout = TimeSpan.FromMilliseconds(200);
                o.BreakDuration = TimeSpan.FromSeconds(5);
                o.MaxPendingInvalidations = 2;
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, _ => database, o =>
            {
                o.Jitter = 0;
                o.Expiration = TimeSpan.FromMinutes(1);
            });
        configure(builder);
        return new LedgerTestHost(time, database, provider, builder.Services.BuildServiceProvider());
    }

    /// <summary>Advances the fake clock in 500 ms steps (at most 1000 s) until <paramref name="condition"/> holds, letting timers run between steps.</summary>
    public async Task AdvanceUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(1);
        }

        Assert.True(condition(), "the condition never became true on the fake clock");
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
