using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using CachePatterns.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CachePatterns.OpenTelemetry.Tests;

/// <summary>
/// What an application's OpenTelemetry pipeline receives when it calls only <c>AddCachePatternsInstrumentation()</c>:
/// the SDK with its in-memory exporters, a real strategy, and every meter and source the packages create.
/// </summary>
public sealed class InstrumentationTests
{
    [Fact]
    public async Task Metrics_and_activities_of_a_strategy_call_reach_the_OpenTelemetry_exporters()
    {
        var cacheName = "otel-" + Guid.NewGuid().ToString("N");
        var metrics = new List<MetricSnapshot>();
        var activities = new List<Activity>();
        using var meterProvider = Sdk.CreateMeterProviderBuilder().AddCachePatternsInstrumentation().AddInMemoryExporter(metrics).Build();
        using var tracerProvider = Sdk.CreateTracerProviderBuilder().AddCachePatternsInstrumentation().AddInMemoryExporter(activities).Build();

        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(new ProductTable(time, loadTime: TimeSpan.FromMilliseconds(3)));
        services.AddCachePatterns(cacheName).UseMemoryProvider().AddWriteThrough<int, Product, ProductTable>(o => o.KeyPrefix = cacheName);
        await using (var provider = services.BuildServiceProvider())
        {
            var products = provider.GetRequiredService<ICacheStrategy<int, Product>>();
            Assert.Equal("teapot", (await products.GetAsync(1))?.Name);   // miss, one load of 3 ms
            Assert.Equal("teapot", (await products.GetAsync(1))?.Name);   // hit
            await products.WriteAsync(1, new Product(1, "kettle"));
        }

        Assert.True(meterProvider.ForceFlush());
        Assert.Equal(1, Sum(metrics, CacheDiagnostics.Hits, cacheName));
        Assert.Equal(1, Sum(metrics, CacheDiagnostics.Misses, cacheName));
        Assert.Equal(1, Sum(metrics, CacheDiagnostics.Loads, cacheName, ("outcome", "success")));

        // The 3 ms load lands in the (2.5 ms, 5 ms] bucket of the advised boundaries, not in OpenTelemetry's (0, 5 s].
        var duration = Points(metrics, CacheDiagnostics.LoadDuration, cacheName).Single();
        Assert.Equal(1, duration.GetHistogramCount());
        var buckets = new List<(double Bound, long Count)>();
        foreach (var bucket in duration.GetHistogramBuckets())
        {
            buckets.Add((bucket.ExplicitBound, bucket.BucketCount));
        }

        Assert.Equal([.. CacheDiagnostics.LoadDurationBuckets, double.PositiveInfinity], buckets.Select(b => b.Bound));
        Assert.Equal((0.005, 1L), buckets.Single(b => b.Count > 0));

        Assert.True(tracerProvider.ForceFlush());
        var ours = activities.Where(a => Equals(a.GetTagItem(CacheDiagnostics.CacheNameTag), cacheName)).Select(a => a.OperationName);
        Assert.Equal(["cachepatterns.load", "cachepatterns.write"], ours.Order());
        Assert.All(activities, a => Assert.Contains(a.Source.Name, CacheDiagnostics.ActivitySourceNames));
    }

    [Fact]
    public async Task Every_meter_and_source_of_the_packages_is_named_in_CacheDiagnostics_and_every_histogram_has_bucket_advice()
    {
        var meters = new ConcurrentDictionary<string, byte>();
        var histograms = new ConcurrentDictionary<string, IReadOnlyList<double>?>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (!instrument.Meter.Name.StartsWith("CachePatterns", StringComparison.Ordinal))
                {
                    return;
                }

                meters.TryAdd(instrument.Meter.Name, 0);
                switch (instrument)
                {
                    case Histogram<double> h:
                        histograms[h.Name] = h.Advice?.HistogramBucketBoundaries;
                        break;
                    case Histogram<long> h:
                        histograms[h.Name] = h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToList();
                        break;
                    case Histogram<int> h:
                        histograms[h.Name] = h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToList();
                        break;
                }
            },
        };
        meterListener.Start();
        var sources = new ConcurrentDictionary<string, byte>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source =>
            {
                if (source.Name.StartsWith("CachePatterns", StringComparison.Ordinal))
                {
                    sources.TryAdd(source.Name, 0);
                }

                return false;
            },
        };
        ActivitySource.AddActivityListener(activityListener);

        // Every package in use at once: the memory provider, Redis, memcached and the router (none of their servers is
        // needed: Redis and memcached connect lazily, the router probes in the background).
        var services = new ServiceCollection();
        services.AddSingleton(new ProductTable(TimeProvider.System, TimeSpan.Zero));
        services.AddCachePatterns().UseMemoryProvider().AddCacheAside<int, Product, ProductTable>()
            .AddRouting(o => o.ConnectionString = "Host=127.0.0.1:1;Username=app;Database=shop");
        services.AddCachePatterns("redis").UseRedis(o => o.Configuration = "127.0.0.1:1").AddCacheAside<int, Product, ProductTable>();
        services.AddCachePatterns("memcached").UseMemcached(o => o.Servers.Add("127.0.0.1:1")).AddCacheAside<int, Product, ProductTable>();
        await using (var provider = services.BuildServiceProvider())
        {
            // A load, so that sources created on first use exist too.
            Assert.NotNull(await provider.GetRequiredService<ICacheStrategy<int, Product>>().GetAsync(1));
            _ = provider.GetRequiredKeyedService<ICacheStrategy<int, Product>>("redis");
            _ = provider.GetRequiredKeyedService<ICacheStrategy<int, Product>>("memcached");
            _ = provider.GetRequiredService<RoutingDataSource>();
        }

        Assert.Contains(CacheDiagnostics.SourceName, meters.Keys);
        Assert.Contains(CacheDiagnostics.RoutingMeterName, meters.Keys);
        Assert.All(meters.Keys, name => Assert.Contains(name, CacheDiagnostics.MeterNames));
        Assert.Contains(CacheDiagnostics.SourceName, sources.Keys);
        Assert.All(sources.Keys, name => Assert.Contains(name, CacheDiagnostics.ActivitySourceNames));

        Assert.Contains(CacheDiagnostics.LoadDuration, histograms.Keys);
        Assert.Equal(CacheDiagnostics.LoadDurationBuckets, histograms[CacheDiagnostics.LoadDuration]);
        Assert.All(histograms, h =>
        {
            Assert.True(h.Value is { Count: > 0 }, $"histogram {h.Key} has no bucket advice");
            Assert.True(h.Value.Zip(h.Value.Skip(1)).All(p => p.First < p.Second), $"histogram {h.Key}: boundaries not increasing");
        });
    }

    private static long Sum(List<MetricSnapshot> metrics, string name, string cacheName, params (string Key, string Value)[] tags) =>
        Points(metrics, name, cacheName, tags).Sum(p => p.GetSumLong());

    /// <summary>The points of the latest export of <paramref name="name"/> carrying the cache's tag (and the given ones).</summary>
    private static List<MetricPoint> Points(List<MetricSnapshot> metrics, string name, string cacheName, params (string Key, string Value)[] tags)
    {
        var snapshot = metrics.LastOrDefault(m => m.Name == name) ?? throw new InvalidOperationException($"The exporter received no {name}.");
        var points = new List<MetricPoint>();
        foreach (var point in snapshot.MetricPoints)
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }

            if (Equals(pointTags.GetValueOrDefault(CacheDiagnostics.CacheTag), cacheName)
                && tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value)))
            {
                points.Add(point);
            }
        }

        return points;
    }
}
