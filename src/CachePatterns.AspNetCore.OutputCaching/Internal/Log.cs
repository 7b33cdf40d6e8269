using Microsoft.Extensions.Logging;

namespace CachePatterns.AspNetCore.OutputCaching.Internal;

/// <summary>Log messages of the output-cache store (event ids 400–449).</summary>
internal static partial class Log
{
    [LoggerMessage(400, LogLevel.Debug, "Output cache of cache {CacheName}: a response was not stored because an eviction of its key or of one of its tags came after its rendering began.")]
    public static partial void ResponseFenced(ILogger logger, string cacheName);

    [LoggerMessage(401, LogLevel.Warning, "Output cache of cache {CacheName}: a response was not stored ({Message}).")]
    public static partial void ResponseNotStored(ILogger logger, string cacheName, string message);
}
