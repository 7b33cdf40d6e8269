using CachePatterns.Diagnostics;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>The instruments of one strategy with its name tag bound, plus the store observer.</summary>
internal sealed class StrategyInstruments : ICacheStoreObserver
{
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly KeyValuePair<string, object?> _cacheTag;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _failureLog;
    private readonly LogRateLimiter _fullLog;
    private readonly LogRateLimiter _deferredLog;

    public StrategyInstruments(string name, string cacheName, CacheTelemetry telemetry, ILogger logger, TimeProvider? time = null)
    {
        Name = name;
        Telemetry = telemetry;
        _logger = logger;
        Time = time ?? TimeProvider.System;
        _failureLog = new LogRateLimiter(Time, LogRateLimiter.DefaultInterval);
        _fullLog = new LogRateLimiter(Time, LogRateLimiter.DefaultInterval);
        _deferredLog = new LogRateLimiter(Time, LogRateLimiter.DefaultInterval);
        _nameTag = new KeyValuePair<string, object?>(CacheDiagnostics.CacheNameTag, name);
        _cacheTag = new KeyValuePair<string, object?>(CacheDiagnostics.CacheTag, cacheName);
    }

    public string Name { get; }

    public CacheTelemetry Telemetry { get; }

    public ILogger Logger => _logger;

    /// <summary>Gets the clock of the log rate limits.</summary>
    public TimeProvider Time { get; }

    /// <summary>Counts a hit; the check of <see cref="System.Diagnostics.Metrics.Instrument.Enabled"/> keeps the call (and its tag span) off the hit path when nothing listens.</summary>
    public void Hit()
    {
        var hits = Telemetry.Hits;
        if (hits.Enabled)
        {
            hits.Add(1, _nameTag, _cacheTag);
        }
    }

    public void Miss(int count = 1) => Telemetry.Misses.Add(count, _nameTag, _cacheTag);

    public void Loaded(bool success, double seconds)
    {
        Telemetry.Loads.Add(1, _nameTag, _cacheTag, new KeyValuePair<string, object?>("outcome", success ? "success" : "failure"));
        Telemetry.LoadDuration.Record(seconds, _nameTag, _cacheTag);
    }

    /// <summary>Counts a stale value served: as fail-safe (the load failed) or while the key is revalidated.</summary>
    public void StaleServed(bool revalidating = false) =>
        Telemetry.StaleServed.Add(1, _nameTag, _cacheTag, new KeyValuePair<string, object?>("reason", revalidating ? "revalidate" : "fail_safe"));

    public void FillFenced() => Telemetry.FillsFenced.Add(1, _nameTag, _cacheTag);

    public void ProviderError(string operation, Exception exception)
    {
        Telemetry.ProviderErrors.Add(1, _nameTag, _cacheTag, new KeyValuePair<string, object?>("operation", operation));

        // Calls skipped by an open circuit are only counted: the breaker logged once that it opened. The others are
        // logged once per interval with the count of those held back, so an outage stays readable.
        if (exception is not Resilience.Internal.CacheCircuitOpenException && _failureLog.TryAcquire(out var suppressed))
        {
            Log.ProviderFailed(_logger, Name, operation, suppressed, _failureLog.Interval, exception);
        }
    }

    /// <summary>Counts and logs (rate-limited) a value a full provider refused to store.</summary>
    public void WriteRefused(string operation)
    {
        Telemetry.WritesRefused.Add(1, _nameTag, _cacheTag, new KeyValuePair<string, object?>("operation", operation));
        if (_fullLog.TryAcquire(out var suppressed))
        {
            Log.ProviderFull(_logger, Name, operation, suppressed, _fullLog.Interval);
        }
    }

    /// <summary>Counts and logs (rate-limited) an invalidation remembered for a replay.</summary>
    public void InvalidationDeferred(string cause, int pending)
    {
        Telemetry.InvalidationsDeferred.Add(1, _nameTag, _cacheTag);
        if (_deferredLog.TryAcquire(out var suppressed))
        {
            Log.InvalidationDeferred(_logger, Name, cause, suppressed, _deferredLog.Interval, pending);
        }
    }

    /// <summary>Counts a failed provider call without logging it (the store semantics log their own messages).</summary>
    public void CountProviderError(string operation) =>
        Telemetry.ProviderErrors.Add(1, _nameTag, _cacheTag, new KeyValuePair<string, object?>("operation", operation));

    public void OnEvicted(CacheEvictionReason reason, int count) =>
        Telemetry.Evictions.Add(count, _nameTag, _cacheTag, new KeyValuePair<string, object?>("reason", CacheTelemetry.ReasonName(reason)));

    public void OnCorruptEntry(string key, Exception exception) => Log.CorruptEntry(_logger, Name, key, exception);
}
