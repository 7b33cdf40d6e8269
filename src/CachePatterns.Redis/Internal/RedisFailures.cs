using System.Net.Sockets;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Translates StackExchange.Redis errors into <see cref="CacheProviderException"/> with a reason. It only names what
/// happened; what it means (a miss, a skipped fill, a remembered invalidation, a tripped circuit) is the core's decision.
/// </summary>
internal static class RedisFailures
{
    /// <summary>Whether an exception is a Redis or connection failure to translate (not bad input, not a cancellation).</summary>
    public static bool IsRedisFailure(Exception exception) =>
        exception is RedisException or TimeoutException or ObjectDisposedException or SocketException or IOException;

    /// <summary>The exception a store throws for a Redis failure.</summary>
    /// <param name="exception">What StackExchange.Redis threw.</param>
    /// <param name="connection">The connection, whose last connection failure refines a generic "no connection".</param>
    /// <param name="node">The Cluster node the call went to, or null (a single server: the failure is the whole cache's).</param>
    public static CacheProviderException Translate(Exception exception, RedisConnection connection, string? node = null)
    {
        var reason = ReasonOf(exception, connection.LastFailureReason);
        var where = node is null ? "Redis" : $"Redis Cluster node {node}";
        return new CacheProviderException(reason, $"{where}: {Describe(reason)}: {exception.Message}", node, exception);
    }

    /// <summary>The reason of a failure; <paramref name="lastConnectionFailure"/> names the cause of a "no connection" error.</summary>
    public static CacheProviderFailureReason ReasonOf(Exception exception, CacheProviderFailureReason? lastConnectionFailure)
    {
        switch (exception)
        {
            case RedisServerException server:
                var message = server.Message;
                if (message.StartsWith("OOM", StringComparison.Ordinal))
                {
                    return CacheProviderFailureReason.ServerFull;
                }

                return message.StartsWith("NOAUTH", StringComparison.Ordinal) || message.StartsWith("WRONGPASS", StringComparison.Ordinal) || message.StartsWith("NOPERM", StringComparison.Ordinal)
                    ? CacheProviderFailureReason.Authentication
                    : CacheProviderFailureReason.ServerError;
            case TimeoutException:
                return CacheProviderFailureReason.Timeout;
            case RedisConnectionException connection:
                if (connection.FailureType == ConnectionFailureType.AuthenticationFailure
                    || connection.Message.Contains("WRONGPASS", StringComparison.Ordinal) || connection.Message.Contains("NOAUTH", StringComparison.Ordinal))
                {
                    return CacheProviderFailureReason.Authentication;
                }

                return IsRefused(connection) ? CacheProviderFailureReason.ConnectionRefused : lastConnectionFailure ?? CacheProviderFailureReason.ConnectionFailed;
            default:
                return IsRefused(exception) ? CacheProviderFailureReason.ConnectionRefused : CacheProviderFailureReason.ConnectionFailed;
        }
    }

    /// <summary>The reason of a connection failure StackExchange.Redis reported.</summary>
    public static CacheProviderFailureReason ReasonOf(ConnectionFailureType type, Exception? exception) => type switch
    {
        ConnectionFailureType.AuthenticationFailure => CacheProviderFailureReason.Authentication,
        _ when exception is not null && IsRefused(exception) => CacheProviderFailureReason.ConnectionRefused,
        _ => CacheProviderFailureReason.ConnectionFailed,
    };

    private static string Describe(CacheProviderFailureReason reason) => reason switch
    {
        CacheProviderFailureReason.ServerFull => "the server is full (maxmemory reached, noeviction)",
        CacheProviderFailureReason.Authentication => "authentication failed",
        CacheProviderFailureReason.ConnectionRefused => "connection refused",
        CacheProviderFailureReason.Timeout => "timeout",
        CacheProviderFailureReason.ServerError => "server error",
        _ => "connection failed",
    };

    private static bool IsRefused(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return exception.Message.Contains("ConnectionRefused", StringComparison.Ordinal) || exception.Message.Contains("Connection refused", StringComparison.Ordinal);
    }
}
