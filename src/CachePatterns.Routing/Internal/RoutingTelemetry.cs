using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;

namespace CachePatterns.Routing.Internal;

/// <summary>The router's instruments (meter <c>CachePatterns.Routing</c>).</summary>
internal sealed class RoutingTelemetry : IDisposable
{
    public const string MeterName = CacheDiagnostics.RoutingMeterName;

    public const string ProbeDurationName = "cachepatterns.routing.probe.duration";

    private readonly Meter _meter;

    public RoutingTelemetry(IMeterFactory? meterFactory)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Connections = _meter.CreateCounter<long>("cachepatterns.routing.connections", description: "Connections opened through the router, by endpoint and role.");
        WriterFallbacks = _meter.CreateCounter<long>("cachepatterns.routing.reads_on_writer", description: "Reads sent to the writer, by reason (strong, position, no_replica, locking).");
        WriterChanges = _meter.CreateCounter<long>("cachepatterns.routing.writer_changes", description: "Times the writer moved to another endpoint (failovers).");
        Ejections = _meter.CreateCounter<long>("cachepatterns.routing.ejections", description: "Endpoints ejected after failed probes.");
        RecoveryConflicts = _meter.CreateCounter<long>("cachepatterns.routing.recovery_conflicts", description: "Reads a replica cancelled for a conflict with recovery, run again elsewhere, by endpoint.");
        ProbeDuration = _meter.CreateHistogram<double>(
            ProbeDurationName,
            "s",
            "Health probe duration, by endpoint and outcome (answered, failed, hung: cut by the probe timeout).",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = CacheDiagnostics.ProbeDurationBuckets });
    }

    public Counter<long> Connections { get; }

    public Counter<long> WriterFallbacks { get; }

    public Counter<long> WriterChanges { get; }

    public Counter<long> Ejections { get; }

    public Counter<long> RecoveryConflicts { get; }

    public Histogram<double> ProbeDuration { get; }

    public void Dispose() => _meter.Dispose();
}
