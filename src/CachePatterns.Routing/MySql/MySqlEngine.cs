using System.Data.Common;
using System.Net.Sockets;
using CachePatterns.Routing.Internal;
using MySqlConnector;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// The MySQL / MariaDB / Aurora MySQL engine: MySqlConnector data sources (<see cref="MySqlEndpoints"/>),
/// <see cref="MySqlReplicationProbe"/>, and errors classified by server error number.
/// </summary>
internal sealed class MySqlEngine : RoutingEngine
{
    public override string Name => "MySQL/MariaDB";

    internal override IReplicationProbe Probe => MySqlReplicationProbe.Instance;

    internal override List<RoutingEndpointOptions> ResolveEndpoints(RoutingOptions options) => MySqlEndpoints.Resolve(options);

    internal override EndpointDataSources CreateDataSources(RoutingOptions options, RoutingEndpointOptions endpoint) =>
        MySqlEndpoints.CreateDataSources(options, endpoint);

    internal override bool CanWaitForPosition => true;

    /// <summary>
    /// MariaDB <c>MASTER_GTID_WAIT</c>, MySQL <c>WAIT_FOR_EXECUTED_GTID_SET</c>, then the replica's position read back and
    /// compared as the router compares (MariaDB's wait compares sequence numbers only, not who wrote them).
    /// </summary>
    internal override Task<bool> WaitForPositionAsync(DbConnection replica, ReplicationPosition position, TimeSpan timeout, CancellationToken cancellationToken) =>
        position switch
        {
            MariaDbGtidPosition mariaDb => MySqlStatusQueries.WaitForPositionAsync(replica, MySqlFlavor.MariaDb, mariaDb, timeout, cancellationToken),
            MySqlGtidSet mySql => MySqlStatusQueries.WaitForPositionAsync(replica, MySqlFlavor.MySql, mySql, timeout, cancellationToken),
            _ => Task.FromResult(false),
        };

    /// <summary>MySqlConnector clears a pool only through one of its connections; the router replaces the data sources instead.</summary>
    internal override bool TryClearPools(EndpointDataSources sources) => false;

    /// <summary>
    /// By server error number: 1290 (running with <c>--read-only</c>), 1792 (read-only transaction), 1836 and 1874 (read-only
    /// mode) are read-only refusals; 1044, 1045, 1698, 1820 and 1862 refused credentials; MySqlConnector's own
    /// unable-to-connect and timeout errors, an error without a server number (a broken stream), 1040 (too many
    /// connections), 1053 (shutdown), 1152 (aborted), 1927 (killed), 2006/2013 (gone, lost) and 4031 (idle timeout), or a
    /// socket, I/O or timeout error: the connection. MySQL has no replica recovery conflicts: a replica's reads never fail for that.
    /// </summary>
    internal override RoutingFailure Classify(Exception exception) => exception switch
    {
        MySqlException { Number: 1290 or 1792 or 1836 or 1874 } => RoutingFailure.ReadOnly,
        MySqlException { Number: 1044 or 1045 or 1698 or 1820 or 1862 } => RoutingFailure.Authentication,
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired } => RoutingFailure.Connection,
        MySqlException { Number: 0 or 1040 or 1053 or 1152 or 1927 or 2006 or 2013 or 4031 } => RoutingFailure.Connection,
        DbException { SqlState: "25006" } => RoutingFailure.ReadOnly,
        SocketException or IOException or TimeoutException or ObjectDisposedException => RoutingFailure.Connection,
        _ => RoutingFailure.None,
    };
}
