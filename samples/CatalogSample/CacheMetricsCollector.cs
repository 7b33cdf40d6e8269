using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;

namespace CatalogSample;

/// <summary>
/// Listens to the "CachePatterns" meter with a <see cref="MeterListener"/>, the way an OpenTelemetry exporter
/// would, and adds up the measurements of one strategy (filtered on the <c>cache.name</c> tag).
/// </summary>
public sealed class CacheMetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _cacheName;
    private readonly ConcurrentDictionary<string, long> _evictions = new(StringComparer.Ordinal);
    private long _hits;
    private long _misses;
    private long _loads;
    private long _failedLoads;
    private long _loadMicroseconds;
    private long _fillsFenced;
    private long _staleServed;
    private long _providerErrors;

    public CacheMetricsCollector(string cacheName)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheName);
        _cacheName = cacheName;
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == CacheDiagnostics.SourceName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    public CacheMetricsSnapshot Snapshot() => new(
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _loads),
        Interlocked.Read(ref _failedLoads),
        Interlocked.Read(ref _loadMicroseconds) / 1e6,
        new Dictionary<string, long>(_evictions, StringComparer.Ordinal),
        Interlocked.Read(ref _fillsFenced),
        Interlocked.Read(ref _staleServed),
        Interlocked.Read(ref _providerErrors));

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!TryReadTags(tags, out var reason, out var outcome))
        {
            return;
        }

        switch (instrument.Name)
        {
            case CacheDiagnostics.Hits:
                Interlocked.Add(ref _hits, value);
                break;
            case CacheDiagnostics.Misses:
                Interlocked.Add(ref _misses, value);
                break;
            case CacheDiagnostics.Loads:
                Interlocked.Add(ref _loads, value);
                if (outcome != "success")
                {
                    Interlocked.Add(ref _failedLoads, value);
                }

                break;
            case CacheDiagnostics.Evictions:
                _evictions.AddOrUpdate(reason ?? "unknown", value, (_, total) => total + value);
                break;
            case CacheDiagnostics.FillsFenced:
                Interlocked.Add(ref _fillsFenced, value);
                break;
            case CacheDiagnostics.StaleServed:
                Interlocked.Add(ref _staleServed, value);
                break;
            case CacheDiagnostics.ProviderErrors:
                Interlocked.Add(ref _providerErrors, value);
                break;
        }
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == CacheDiagnostics.LoadDuration && TryReadTags(tags, out _, out _))
        {
            Interlocked.Add(ref _loadMicroseconds, (long)(value * 1e6));
        }
    }

    /// <summary>Returns <see langword="false"/> for another strategy's measurement; else the reason and outcome tags.</summary>
    private bool TryReadTags(ReadOnlySpan<KeyValuePair<string, object?>> tags, out string? reason, out string? outcome)
    {
        var matches = false;
        reason = null;
        outcome = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case CacheDiagnostics.CacheNameTag:
                    matches = tag.Value as string == _cacheName;
                    break;
                case "reason":
                    reason = tag.Value as string;
                    break;
                case "outcome":
                    outcome = tag.Value as string;
                    break;
            }
        }

        return matches;
    }
}
