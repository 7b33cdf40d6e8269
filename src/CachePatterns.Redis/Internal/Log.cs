using Microsoft.Extensions.Logging;

namespace CachePatterns.Redis.Internal;

/// <summary>Every log message of the Redis provider, with stable event ids (100–199). Endpoints only, never the configuration string (it may hold a password).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Connecting to Redis at {Endpoints}.")]
    public static partial void Connecting(ILogger logger, string endpoints);

    [LoggerMessage(101, LogLevel.Warning, "Redis at {Endpoints} is not reachable yet; the cache is skipped until it is (reconnecting in the background).")]
    public static partial void NotConnectedYet(ILogger logger, string endpoints);

    [LoggerMessage(102, LogLevel.Warning, "Connection to Redis at {Endpoint} failed ({FailureType}). {Suppressed} more connection failures were not logged in the {Interval} before.")]
    public static partial void ConnectionFailed(ILogger logger, string endpoint, string failureType, long suppressed, TimeSpan interval, Exception? exception);

    [LoggerMessage(103, LogLevel.Information, "Connection to Redis at {Endpoint} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(108, LogLevel.Warning, "Redis does not answer ({Reason}); the cache is skipped until it does.")]
    public static partial void ServerNotAnswering(ILogger logger, string reason);

    [LoggerMessage(109, LogLevel.Information, "Redis answers again.")]
    public static partial void ServerAnswersAgain(ILogger logger);

    [LoggerMessage(110, LogLevel.Warning, "Redis Cluster node {Node} does not answer ({Reason}); its keys skip the cache until it does.")]
    public static partial void ClusterNodeNotAnswering(ILogger logger, string node, string reason);

    [LoggerMessage(111, LogLevel.Information, "Redis Cluster node {Node} answers again.")]
    public static partial void ClusterNodeAnswersAgain(ILogger logger, string node);
}
