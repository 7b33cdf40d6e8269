using CachePatterns.Diagnostics;

namespace OpenTelemetry.Trace;

/// <summary>Adds CachePatterns' traces to an OpenTelemetry <see cref="TracerProviderBuilder"/>.</summary>
public static class CachePatternsTracerProviderBuilderExtensions
{
    /// <summary>
    /// Listens to every activity source of CachePatterns, its providers and its router
    /// (<see cref="CacheDiagnostics.ActivitySourceNames"/>): loads, bulk loads, writes and removes (hits start no activity).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddCachePatternsInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource([.. CacheDiagnostics.ActivitySourceNames]);
    }
}
