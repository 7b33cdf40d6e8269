using System.Data.Common;
using System.Net.Sockets;

namespace CachePatterns.Routing.Internal;

/// <summary>Tells connection failures (the endpoint is gone or going) from errors of the statement itself.</summary>
internal static class RoutingErrors
{
    /// <summary>SQLSTATE 25006: the server is read-only (a replica, or a primary that was demoted).</summary>
    public static bool IsReadOnlyViolation(Exception exception) => exception is DbException { SqlState: "25006" };

    /// <summary>
    /// A broken or refused connection: no SQLSTATE from the server, class 08 (connection exception) or 57P (the server is
    /// shutting down or starting), or a socket, I/O or timeout error; also a data source disposed by a failover.
    /// </summary>
    public static bool IsConnectionFailure(Exception exception) => exception switch
    {
        DbException db => db.SqlState is null || db.SqlState.StartsWith("08", StringComparison.Ordinal) || db.SqlState.StartsWith("57P", StringComparison.Ordinal),
        SocketException or IOException or TimeoutException or ObjectDisposedException => true,
        _ => false,
    };
}
