using Microsoft.Extensions.Logging;

namespace CachePatterns.Redis.Internal;

/// <summary>Every log message of the Redis provider, with stable event ids (100–199). Endpoints only, never the configuration string (it may hold a password).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Connecting to Redis at {Endpoints}.")]
    public static partial void Connecting(ILogger logger, string endpoints);

    [LoggerMessage(101, LogLevel.Warning, "Redis at {Endpoints} is not reachable yet; the cache is skipped until it is (reconnecting in the background).")]
    public static partial void NotConnectedYet(ILogger logger, string endpoints);

    [LoggerMessage(102, LogLevel.Warning, "Connection to Redis at {Endpoint} failed ({FailureType}).")]
    public static partial void ConnectionFailed(ILogger logger, string endpoint, string failureType, Exception? exception);

    [LoggerMessage(103, LogLevel.Information, "Connection to Redis at {Endpoint} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(104, LogLevel.Warning, "More than {Max} Redis invalidations failed while the server was unreachable; instead of replaying them one by one, every key of this provider's instance name will be invalidated (SCAN) when Redis answers again, and reads skip Redis until then.")]
    public static partial void PendingInvalidationsOverflowed(ILogger logger, int max);

    [LoggerMessage(105, LogLevel.Information, "Replayed {Count} Redis invalidations that had failed while the server was unreachable.")]
    public static partial void PendingInvalidationsReplayed(ILogger logger, int count);

    [LoggerMessage(106, LogLevel.Debug, "Replaying {Count} pending Redis invalidations failed ({ExceptionType}); retrying later.")]
    public static partial void PendingReplayFailed(ILogger logger, int count, string exceptionType);

    [LoggerMessage(107, LogLevel.Information, "Invalidated {Count} Redis keys of this provider's instance name after lost invalidations (finished: {Finished}).")]
    public static partial void PendingSweepDone(ILogger logger, int count, bool finished);
}
