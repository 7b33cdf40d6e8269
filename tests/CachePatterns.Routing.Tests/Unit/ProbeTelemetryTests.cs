using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using CachePatterns.Routing.Internal;
using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class ProbeTelemetryTests
{
    [Fact]
    public async Task Each_probe_records_its_duration_and_outcome_on_a_histogram_with_probe_buckets()
    {
        var samples = new ConcurrentQueue<(string Endpoint, string Outcome, double Seconds)>();
        IReadOnlyList<double>? advised = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CacheDiagnostics.RoutingMeterName && instrument.Name == RoutingTelemetry.ProbeDurationName)
                {
                    advised = ((Histogram<double>)instrument).Advice?.HistogramBucketBoundaries;
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? endpoint = null, outcome = null;
            foreach (var tag in tags)
            {
                endpoint = tag.Key == "endpoint" ? tag.Value as string : endpoint;
                outcome = tag.Key == "outcome" ? tag.Value as string : outcome;
            }

            // Routers of other tests probe in parallel: only this test's endpoints count.
            if (endpoint?.StartsWith("telemetry-", StringComparison.Ordinal) == true)
            {
                samples.Enqueue((endpoint, outcome!, value));
            }
        });
        listener.Start();

        await using var cluster = new FakeCluster(
            ["telemetry-p", "telemetry-r1", "telemetry-r2"],
            o => (o.ProbeTimeout, o.FailuresBeforeEjection) = (TimeSpan.FromSeconds(1), 1));
        cluster.Probe.Primary("telemetry-p").Down("telemetry-r1").Hung("telemetry-r2");
        await cluster.Router.RefreshAsync();

        Assert.Equal(CacheDiagnostics.ProbeDurationBuckets, advised);
        var byEndpoint = samples.ToDictionary(s => s.Endpoint);
        Assert.Equal(3, samples.Count);
        Assert.Equal("answered", byEndpoint["telemetry-p"].Outcome);
        Assert.Equal("failed", byEndpoint["telemetry-r1"].Outcome);
        Assert.Equal("hung", byEndpoint["telemetry-r2"].Outcome);
        // The probe timeout's timer runs on a coarse tick and may fire up to one tick (16 ms) before the timestamp clock says 1 s
        // (0.9997 s recorded once).
        Assert.True(byEndpoint["telemetry-r2"].Seconds >= 0.984, $"a hung probe lasts the probe timeout (1 s), recorded {byEndpoint["telemetry-r2"].Seconds} s");
    }
}
