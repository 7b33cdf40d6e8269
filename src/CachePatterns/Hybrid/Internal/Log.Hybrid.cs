using Microsoft.Extensions.Logging;

namespace CachePatterns.Hybrid.Internal;

/// <summary>Log messages of the <c>HybridCache</c> adapter (event ids 450–499).</summary>
internal static partial class Log
{
    [LoggerMessage(450, LogLevel.Warning, "HybridCache of cache {CacheName}: the key is not cached ({Reason}); the factory runs on every call. {Suppressed} more such keys were not logged in the {Interval} before.")]
    public static partial void KeyNotCached(ILogger logger, string cacheName, string reason, long suppressed, TimeSpan interval);

    [LoggerMessage(451, LogLevel.Warning, "HybridCache of cache {CacheName}: SetAsync did not store the value ({Message}); the key was removed instead, so no older value stays.")]
    public static partial void SetNotStored(ILogger logger, string cacheName, string message);
}
