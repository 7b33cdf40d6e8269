using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>Every log message of the core, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Cache provider call {Operation} failed for cache {CacheName}; the read is served by the loader.")]
    public static partial void ProviderFailed(ILogger logger, string cacheName, string operation, Exception exception);

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

    [LoggerMessage(7, LogLevel.Warning, "Invalidation of a key of cache {CacheName} failed; it is retried before that key is read from the cache again.")]
    public static partial void InvalidationDeferred(ILogger logger, string cacheName, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Background refresh of a stale entry of cache {CacheName} failed; the stale value stays until it is refreshed or its retention ends.")]
    public static partial void BackgroundRefreshFailed(ILogger logger, string cacheName, Exception exception);
}
