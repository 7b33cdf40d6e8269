using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Internal;

/// <summary>Every log message of the memcached provider, with stable event ids (the memcached range is 200–299).</summary>
internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Warning, "Memcached node {Node} is marked dead after {Failures} consecutive failures; its keys answer as unavailable and it is probed every {ProbeInterval}.")]
    public static partial void NodeDead(ILogger logger, string node, int failures, TimeSpan probeInterval, Exception exception);

    [LoggerMessage(201, LogLevel.Information, "Memcached node {Node} answers again and is back in use.")]
    public static partial void NodeAlive(ILogger logger, string node);

    [LoggerMessage(202, LogLevel.Debug, "Connection to memcached node {Node} was closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string node, string reason);

    [LoggerMessage(203, LogLevel.Error, "A handler of the memcached provider's ConnectionChanged event failed for node {Node}.")]
    public static partial void ConnectionChangedHandlerFailed(ILogger logger, string node, Exception exception);
}
