using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Internal;

/// <summary>Every log message of the memcached provider, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Memcached node {Node} is marked dead after {Failures} consecutive failures; its keys answer as unavailable and it is probed every {ProbeInterval}.")]
    public static partial void NodeDead(ILogger logger, string node, int failures, TimeSpan probeInterval, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Memcached node {Node} answers again and is back in use.")]
    public static partial void NodeAlive(ILogger logger, string node);

    [LoggerMessage(3, LogLevel.Debug, "Connection to memcached node {Node} was closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string node, string reason);

    [LoggerMessage(4, LogLevel.Error, "Memcached entry {Key} could not be read back; it was removed and treated as a miss.")]
    public static partial void CorruptEntry(ILogger logger, string key, Exception exception);
}
