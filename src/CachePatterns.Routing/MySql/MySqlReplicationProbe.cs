using System.Data.Common;
using System.Globalization;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// The MySQL / MariaDB / Aurora MySQL probe, one round trip: the role (<c>@@read_only</c> and <c>@@innodb_read_only</c>
/// both off: primary), the GTID position (MariaDB: <c>@@gtid_binlog_pos</c> on a primary, <c>@@gtid_slave_pos</c> on a
/// replica; MySQL: <c>@@gtid_executed</c>; a primary's carries its <c>@@server_id</c> / <c>@@server_uuid</c>), and on a
/// replica <c>SHOW REPLICA STATUS</c> (<c>SHOW SLAVE STATUS</c> where REPLICA is unknown): receiving only while every
/// channel's IO thread is connected (<c>Yes</c>, not <c>Connecting</c>) and its SQL thread runs; the lag is the server's
/// Seconds_Behind_Master (it includes a <c>MASTER_DELAY</c>). Aurora readers: lag from
/// <c>information_schema.replica_host_status</c>, no GTID position. Works through any ADO.NET data source for these servers.
/// </summary>
/// <remarks>
/// The account needs <c>REPLICATION CLIENT</c> (MySQL) or <c>SLAVE MONITOR</c> (MariaDB 10.5+; <c>REPLICA MONITOR</c>) for
/// the replica status; without it the probe fails with the server's access-denied error and the replica gets no reads.
/// </remarks>
public sealed class MySqlReplicationProbe : IReplicationProbe
{
    /// <summary>Gets the shared instance (the probe keeps only each data source's server flavour).</summary>
    public static MySqlReplicationProbe Instance { get; } = new();

    /// <inheritdoc/>
    public async ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var status = await MySqlStatusQueries.ProbeAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var position = status.Position is null && !status.IsPrimary && !status.IsReceiving
            ? NoGtidPosition.Detached
            : Position(status.Flavor, status.Position, status.IsPrimary ? status.ServerIdentity : null);
        if (status.IsPrimary)
        {
            return new ReplicationStatus(IsPrimary: true, position, TimeSpan.Zero, IsReceiving: true);
        }

        return new ReplicationStatus(IsPrimary: false, position, status.ReportedLag ?? TimeSpan.Zero, status.IsReceiving);
    }

    /// <inheritdoc/>
    public async ValueTask<ReplicationPosition> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var (flavor, position, identity) = await MySqlStatusQueries.WritePositionAsync(writer, cancellationToken).ConfigureAwait(false);
        return position is null ? NoGtidPosition.WriteMark : Position(flavor, position, identity);
    }

    private static ReplicationPosition Position(MySqlFlavor flavor, string? text, string? primaryIdentity) => text is null
        ? NoGtidPosition.Probed
        : flavor == MySqlFlavor.MariaDb
            ? MariaDbGtidPosition.Parse(text, primaryIdentity is null ? null : uint.Parse(primaryIdentity, NumberStyles.None, CultureInfo.InvariantCulture))
            : MySqlGtidSet.Parse(text, primaryIdentity);
}
