using Microsoft.Extensions.Logging;

namespace CachePatterns.Redis.Internal;

/// <summary>The Redis provider's near-cache messages: event ids 150–169.</summary>
internal static partial class Log
{
    [LoggerMessage(150, LogLevel.Debug, "Subscribed to the invalidation channel {Channel}; confirming it with a probe.")]
    public static partial void InvalidationChannelSubscribed(ILogger logger, string channel);

    [LoggerMessage(151, LogLevel.Information, "Invalidation channel {Channel} confirmed live: near caches serve again.")]
    public static partial void InvalidationChannelConfirmed(ILogger logger, string channel);

    [LoggerMessage(152, LogLevel.Warning, "Invalidation channel {Channel} may miss messages ({Reason}): near caches stop serving until it is confirmed again.")]
    public static partial void InvalidationChannelLost(ILogger logger, string channel, string reason);
}
