using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A DI container for one test: a fake clock registered as <see cref="TimeProvider"/>, per-container metrics,
/// fake logging, and a <see cref="TestDatabase"/> registered as the loader/writer.
/// </summary>
public sealed class TestCacheHost : IDisposable
{
    private TestCacheHost(ServiceProvider services, FakeTimeProvider time, TestDatabase database)
    {
        Services = services;
        Time = time;
        Database = database;
    }

    public ServiceProvider Services { get; }

    public FakeTimeProvider Time { get; }

    public TestDatabase Database { get; }

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    public ICacheStrategy<int, string> Strategy => Services.GetRequiredService<ICacheStrategy<int, string>>();

    /// <summary>Builds a container with the default cache configured by <paramref name="configure"/>.</summary>
    /// <param name="configure">Configures the default cache.</param>
    /// <param name="configureServices">Adds services.</param>
    /// <param name="time">A clock shared with other containers (two processes of one test); a new one when null.</param>
    /// <param name="database">A database shared with other containers; a new one when null.</param>
    public static TestCacheHost Create(
        Action<CachePatternsBuilder> configure,
        Action<IServiceCollection>? configureServices = null,
        FakeTimeProvider? time = null,
        TestDatabase? database = null)
    {
        time ??= new FakeTimeProvider();
        database ??= new TestDatabase();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(database);
        services.AddMetrics();
        services.AddFakeLogging();
        configureServices?.Invoke(services);
        configure(services.AddCachePatterns());
        return new TestCacheHost(services.BuildServiceProvider(validateScopes: true), time, database);
    }

    /// <summary>A cache-aside strategy over <see cref="Database"/>, without jitter so expirations are exact.</summary>
    public static TestCacheHost CacheAside(Action<CacheStrategyOptions>? configure = null, Action<CachePatternsBuilder>? builder = null) =>
        Create(b =>
        {
            builder?.Invoke(b);
            b.AddCacheAside<int, string, TestDatabase>(o =>
            {
                o.Jitter = 0;
                configure?.Invoke(o);
            });
        });

    /// <summary>A write-through strategy over <see cref="Database"/>, without jitter so expirations are exact.</summary>
    public static TestCacheHost WriteThrough(Action<CacheStrategyOptions>? configure = null, Action<CachePatternsBuilder>? builder = null) =>
        Create(b =>
        {
            builder?.Invoke(b);
            b.AddWriteThrough<int, string, TestDatabase>(o =>
            {
                o.Jitter = 0;
                configure?.Invoke(o);
            });
        });

    /// <summary>Collects one CachePatterns counter of this container only (other tests' containers are not seen).</summary>
    public MetricCollector<long> Counter(string instrumentName) =>
        new(Services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, instrumentName);

    public void Dispose() => Services.Dispose();
}

/// <summary>Sums of collected counter measurements.</summary>
public static class MetricCollectorExtensions
{
    public static long Total(this MetricCollector<long> collector) =>
        collector.GetMeasurementSnapshot().Sum(m => m.Value);

    public static long Total(this MetricCollector<long> collector, string tag, string value) =>
        collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue(tag, out var v) && Equals(v, value)).Sum(m => m.Value);
}
