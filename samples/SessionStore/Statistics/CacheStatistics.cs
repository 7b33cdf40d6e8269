using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;

namespace SessionStore.Statistics;

/// <summary>
/// Reads the library's metrics the way an OpenTelemetry exporter would: a <see cref="MeterListener"/> on the
/// <c>CachePatterns</c> meter adds up hits, misses, loads, evictions and provider errors per strategy, and a timer
/// (on the injected <see cref="TimeProvider"/>) records what each interval added, for the chart.
/// </summary>
public sealed class CacheStatistics : IHostedService, IDisposable
{
    /// <summary>How many intervals the chart keeps.</summary>
    public const int MaxSamples = 120;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Totals> _totals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _evictionsByReason = new(StringComparer.Ordinal);
    private readonly Queue<StatisticsSample> _samples = new();
    private readonly Lock _samplesLock = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private (long Hits, long Misses, long Loads, long Evictions, long ProviderErrors) _previous;
    private ITimer? _timer;

    public CacheStatistics(TimeProvider time, TimeSpan interval)
    {
        _time = time;
        _interval = interval;
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == CacheDiagnostics.SourceName && instrument is Counter<long>)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    public IReadOnlyList<CacheCounters> Counters =>
        [.. _totals.OrderBy(static t => t.Key, StringComparer.Ordinal).Select(static t => t.Value.Snapshot(t.Key))];

    public IReadOnlyDictionary<string, long> EvictionsByReason => new SortedDictionary<string, long>(_evictionsByReason, StringComparer.Ordinal);

    public IReadOnlyList<StatisticsSample> Samples
    {
        get
        {
            lock (_samplesLock)
            {
                return [.. _samples];
            }
        }
    }

    public TimeSpan Interval => _interval;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = _time.CreateTimer(static state => ((CacheStatistics)state!).TakeSample(), this, _interval, _interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _listener.Dispose();
    }

    /// <summary>Records what the last interval added (also called by the timer).</summary>
    public void TakeSample()
    {
        var all = Counters;
        var now = (Hits: all.Sum(static c => c.Hits), Misses: all.Sum(static c => c.Misses), Loads: all.Sum(static c => c.Loads), Evictions: all.Sum(static c => c.Evictions),
            ProviderErrors: all.Sum(static c => c.ProviderErrors));
        lock (_samplesLock)
        {
            _samples.Enqueue(new StatisticsSample(
                _time.GetUtcNow(), now.Hits - _previous.Hits, now.Misses - _previous.Misses, now.Loads - _previous.Loads, now.Evictions - _previous.Evictions,
                now.ProviderErrors - _previous.ProviderErrors));
            _previous = now;
            while (_samples.Count > MaxSamples)
            {
                _samples.Dequeue();
            }
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? name = null;
        string? cache = null;
        string? reason = null;
        foreach (var tag in tags)
        {
            if (tag.Key == CacheDiagnostics.CacheNameTag)
            {
                name = tag.Value as string;
            }
            else if (tag.Key == CacheDiagnostics.CacheTag)
            {
                cache = tag.Value as string;
            }
            else if (tag.Key == "reason")
            {
                reason = tag.Value as string;
            }
        }

        // The default cache's strategies by name (Product, Order, distributed); another cache's as name@cache.
        var key = cache is null or CachePatterns.CachePatternsBuilder.DefaultCacheName ? name ?? "unknown" : $"{name}@{cache}";
        var totals = _totals.GetOrAdd(key, static _ => new Totals());
        switch (instrument.Name)
        {
            case CacheDiagnostics.Hits:
                Interlocked.Add(ref totals.Hits, value);
                break;
            case CacheDiagnostics.Misses:
                Interlocked.Add(ref totals.Misses, value);
                break;
            case CacheDiagnostics.Loads:
                Interlocked.Add(ref totals.Loads, value);
                break;
            case CacheDiagnostics.Evictions:
                Interlocked.Add(ref totals.Evictions, value);
                _evictionsByReason.AddOrUpdate(reason ?? "unknown", value, (_, total) => total + value);
                break;
            case CacheDiagnostics.ProviderErrors:
                Interlocked.Add(ref totals.ProviderErrors, value);
                break;
        }
    }

    private sealed class Totals
    {
        public long Hits;
        public long Misses;
        public long Loads;
        public long Evictions;
        public long ProviderErrors;

        public CacheCounters Snapshot(string name) => new(
            name, Interlocked.Read(ref Hits), Interlocked.Read(ref Misses), Interlocked.Read(ref Loads), Interlocked.Read(ref Evictions), Interlocked.Read(ref ProviderErrors));
    }
}
