using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>Every log message of the core, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Cache provider call {Operation} failed for cache {CacheName}; the read is served by the loader. {Suppressed} more provider failures of this cache were not logged in the {Interval} before.")]
    public static partial void ProviderFailed(ILogger logger, string cacheName, string operation, long suppressed, TimeSpan interval, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Loader failed for cache {CacheName}; serving a stale value (fail-safe).")]
    public static partial void ServingStale(ILogger logger, string cacheName, Exception exception);

    [LoggerMessage(3, LogLevel.Error, "Cache entry {Key} of cache {CacheName} could not be read back; it was removed and treated as a miss.")]
    public static partial void CorruptEntry(ILogger logger, string cacheName, string key, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Value for cache {CacheName} was not cached: {Message}")]
    public static partial void ValueNotCached(ILogger logger, string cacheName, string message);

    [LoggerMessage(5, LogLevel.Warning, "Circuit breaker of cache {CacheName} opened after provider failures; cache calls are skipped for {BreakDuration}.")]
    public static partial void CircuitOpened(ILogger logger, string cacheName, TimeSpan breakDuration);

    [LoggerMessage(6, LogLevel.Information, "Circuit breaker of cache {CacheName} closed; the provider is used again.")]
    public static partial void CircuitClosed(ILogger logger, string cacheName);

    [LoggerMessage(7, LogLevel.Warning, "Invalidation of a key of cache {CacheName} failed ({Cause}); it is remembered and retried before that key is read from the cache again. {Suppressed} more invalidations were deferred in the {Interval} before; {Pending} keys are waiting.")]
    public static partial void InvalidationDeferred(ILogger logger, string cacheName, string cause, long suppressed, TimeSpan interval, int pending);

    [LoggerMessage(8, LogLevel.Warning, "Background refresh of a stale entry of cache {CacheName} failed; the stale value stays until it is refreshed or its retention ends.")]
    public static partial void BackgroundRefreshFailed(ILogger logger, string cacheName, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Cache {CacheName} is full: the provider refused to store a value ({Operation}); it is not cached, and reads still use the cache. {Suppressed} more refused writes were not logged in the {Interval} before.")]
    public static partial void ProviderFull(ILogger logger, string cacheName, string operation, long suppressed, TimeSpan interval);

    [LoggerMessage(11, LogLevel.Warning, "Circuit breaker of cache {CacheName} opened: {Count} provider calls in a row got no answer within {Timeout} (the server hangs); cache calls are skipped for {BreakDuration} or until the provider reports it answers again.")]
    public static partial void CircuitOpenedByTimeouts(ILogger logger, string cacheName, int count, TimeSpan timeout, TimeSpan breakDuration);

    [LoggerMessage(12, LogLevel.Warning, "Circuit breaker of cache {CacheName} opened: the provider reported its connection lost ({Cause}); cache calls are skipped for {BreakDuration} or until it reports the connection restored.")]
    public static partial void CircuitOpenedByProvider(ILogger logger, string cacheName, string cause, TimeSpan breakDuration);

    [LoggerMessage(13, LogLevel.Warning, "More than {Max} invalidations of cache {CacheName} failed; the keys are forgotten and {Remedy}")]
    public static partial void LedgerOverflowed(ILogger logger, string cacheName, int max, string remedy);

    [LoggerMessage(14, LogLevel.Information, "Replayed {Count} invalidations of cache {CacheName} that had failed while the provider did not answer.")]
    public static partial void LedgerReplayed(ILogger logger, string cacheName, int count);

    [LoggerMessage(15, LogLevel.Information, "Swept key prefix '{KeyPrefix}' of cache {CacheName} after lost invalidations: {Count} keys invalidated; the cache is read again.")]
    public static partial void LedgerSwept(ILogger logger, string cacheName, string keyPrefix, long count);

    [LoggerMessage(16, LogLevel.Warning, "Sweeping key prefix '{KeyPrefix}' of cache {CacheName} failed; retried in {RetryIn}, the cache is not read for it until then. {Suppressed} more failed sweeps were not logged in the {Interval} before.")]
    public static partial void LedgerSweepFailed(ILogger logger, string cacheName, string keyPrefix, TimeSpan retryIn, long suppressed, TimeSpan interval, Exception exception);

    [LoggerMessage(17, LogLevel.Information, "The lost invalidations of cache {CacheName} are accounted for: every entry written before them has expired; the cache is read again.")]
    public static partial void LedgerExpiredOut(ILogger logger, string cacheName);
}
