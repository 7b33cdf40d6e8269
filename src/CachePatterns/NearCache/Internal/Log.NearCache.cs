using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>The near cache's log messages: event ids 50–69.</summary>
internal static partial class Log
{
    [LoggerMessage(50, LogLevel.Warning, "Near cache of cache {CacheName} stopped serving and was dropped: invalidations from other processes may be missed ({Reason}). Reads go to the provider until the invalidation channel is confirmed live again. {Suppressed} more such events were not logged in the {Interval} before.")]
    public static partial void NearCacheDisconnected(ILogger logger, string cacheName, string reason, long suppressed, TimeSpan interval);

    [LoggerMessage(51, LogLevel.Information, "Near cache of cache {CacheName} serves again: the invalidation channel is confirmed live and every copy held before was dropped.")]
    public static partial void NearCacheResynchronized(ILogger logger, string cacheName);

    [LoggerMessage(52, LogLevel.Information, "Near cache of cache {CacheName} was dropped: {Reason}.")]
    public static partial void NearCacheFlushed(ILogger logger, string cacheName, string reason);

    [LoggerMessage(53, LogLevel.Information, "Near cache of cache {CacheName}: provider {Provider} cannot tell this process about changes made by others, so a copy lives at most {MaxStaleness} (NearCacheOptions.MaxStaleness); other processes may read a value up to that old.")]
    public static partial void NearCacheBoundedStaleness(ILogger logger, string cacheName, string provider, TimeSpan maxStaleness);
}
