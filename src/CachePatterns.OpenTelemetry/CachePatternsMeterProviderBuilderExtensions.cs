using CachePatterns.Diagnostics;

namespace OpenTelemetry.Metrics;

/// <summary>Adds CachePatterns' metrics to an OpenTelemetry <see cref="MeterProviderBuilder"/>.</summary>
public static class CachePatternsMeterProviderBuilderExtensions
{
    /// <summary>
    /// Listens to every meter of CachePatterns, its providers and its router (<see cref="CacheDiagnostics.MeterNames"/>):
    /// hits, misses, loads, load durations, evictions, provider errors, fenced fills and the router's counters.
    /// Duration histograms carry their own bucket advice (docs/telemetry.md); no view is needed.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddCachePatternsInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter([.. CacheDiagnostics.MeterNames]);
    }
}
