using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// The SQL of roles, GTID positions, replica status and GTID waits on MySQL, MariaDB and Aurora MySQL, through any
/// ADO.NET connection to them (MySqlConnector by default). One round trip per probe.
/// </summary>
internal static class MySqlStatusQueries
{
    // MySQL 8.0.22+ names it REPLICA; 8.4 dropped SLAVE. MariaDB knows both (10.5.1+) and keeps the Slave_* columns.
    private const string MySqlReplicaStatus = "SHOW REPLICA STATUS";
    private const string LegacyReplicaStatus = "SHOW SLAVE STATUS";

    private const int UnknownSystemVariable = 1193;
    private const int ParseError = 1064;

    private static readonly ConditionalWeakTable<DbDataSource, FlavorInfo> Flavors = [];

    /// <summary>Probes the server behind <paramref name="dataSource"/>: role, position, replica channels.</summary>
    public static async Task<MySqlServerStatus> ProbeAsync(DbDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var info = await FlavorAsync(dataSource, connection, cancellationToken).ConfigureAwait(false);
            var sql = info.Flavor switch
            {
                MySqlFlavor.MariaDb => $"SELECT @@global.read_only, @@global.innodb_read_only, IF(@@global.log_bin, IF(@@global.read_only, @@global.gtid_slave_pos, @@global.gtid_binlog_pos), NULL), @@global.server_id; {LegacyReplicaStatus}",
                MySqlFlavor.AuroraMySql => "SELECT @@global.read_only, @@global.innodb_read_only, NULL, NULL; " +
                    "SELECT REPLICA_LAG_IN_MILLISECONDS FROM information_schema.replica_host_status WHERE SERVER_ID = @@aurora_server_id",
                _ => $"SELECT @@global.read_only, @@global.innodb_read_only, IF(@@global.gtid_mode = 'ON', @@global.gtid_executed, NULL), @@global.server_uuid; {(info.LegacyStatus ? LegacyReplicaStatus : MySqlReplicaStatus)}",
            };
            try
            {
                return await ReadStatusAsync(connection, info.Flavor, sql, cancellationToken).ConfigureAwait(false);
            }
            catch (DbException ex) when (info.Flavor == MySqlFlavor.MySql && !info.LegacyStatus && ErrorNumber(ex) == ParseError)
            {
                // MySQL before 8.0.22 knows only SHOW SLAVE STATUS.
                info.LegacyStatus = true;
                return await ReadStatusAsync(connection, info.Flavor, sql.Replace(MySqlReplicaStatus, LegacyReplicaStatus, StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The writer's current GTID position (every transaction committed before this call is in it; <see langword="null"/> when
    /// the server has none) and its identity (<c>@@server_id</c> / <c>@@server_uuid</c>).
    /// </summary>
    public static async Task<(MySqlFlavor Flavor, string? Position, string? Identity)> WritePositionAsync(DbDataSource writer, CancellationToken cancellationToken)
    {
        var connection = await writer.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var info = await FlavorAsync(writer, connection, cancellationToken).ConfigureAwait(false);
            var sql = info.Flavor switch
            {
                MySqlFlavor.MariaDb => "SELECT IF(@@global.log_bin, @@global.gtid_binlog_pos, NULL), @@global.server_id",
                MySqlFlavor.AuroraMySql => "SELECT NULL, NULL",
                _ => "SELECT IF(@@global.gtid_mode = 'ON', @@global.gtid_executed, NULL), @@global.server_uuid",
            };
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = sql;
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        throw new InvalidOperationException("The write position query returned no row.");
                    }

                    return (info.Flavor, Text(reader, 0), Text(reader, 1));
                }
            }
        }
    }

    /// <summary>
    /// Waits on a replica's open connection until it has applied <paramref name="position"/> (MariaDB <c>MASTER_GTID_WAIT</c>,
    /// MySQL <c>WAIT_FOR_EXECUTED_GTID_SET</c>), at most <paramref name="timeout"/>, then reads the replica's position back and
    /// returns whether it is at least <paramref name="position"/> (MariaDB's wait compares sequence numbers only). Never send
    /// it to a primary: MariaDB's wait follows the replica position, which a primary does not advance.
    /// </summary>
    public static async Task<bool> WaitForPositionAsync(DbConnection replica, MySqlFlavor flavor, ReplicationPosition position, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var command = replica.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            var seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            command.CommandText = flavor == MySqlFlavor.MariaDb
                ? $"SELECT MASTER_GTID_WAIT(@position, {seconds}), @@global.gtid_slave_pos"
                : $"SELECT WAIT_FOR_EXECUTED_GTID_SET(@position, {seconds}), @@global.gtid_executed";
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@position";
            parameter.Value = position.ToString();
            command.Parameters.Add(parameter);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) != 0)
                {
                    return false;
                }

                ReplicationPosition applied = flavor == MySqlFlavor.MariaDb ? MariaDbGtidPosition.Parse(Text(reader, 1)) : MySqlGtidSet.Parse(Text(reader, 1));
                return applied.CompareTo(position) == ReplicationPositionComparison.AtLeast;
            }
        }
    }

    /// <summary>The flavour of the server behind a data source, found once (MariaDB by its version, Aurora by <c>@@aurora_version</c>).</summary>
    public static async ValueTask<FlavorInfo> FlavorAsync(DbDataSource dataSource, DbConnection connection, CancellationToken cancellationToken)
    {
        if (Flavors.TryGetValue(dataSource, out var known))
        {
            return known;
        }

        MySqlFlavor flavor;
        if (connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase))
        {
            flavor = MySqlFlavor.MariaDb;
        }
        else
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT @@aurora_version";
                try
                {
                    await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                    flavor = MySqlFlavor.AuroraMySql;
                }
                catch (DbException ex) when (ErrorNumber(ex) == UnknownSystemVariable)
                {
                    flavor = MySqlFlavor.MySql;
                }
            }
        }

        var info = new FlavorInfo(flavor);
        Flavors.AddOrUpdate(dataSource, info);
        return info;
    }

    private static async Task<MySqlServerStatus> ReadStatusAsync(DbConnection connection, MySqlFlavor flavor, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException("The replication probe returned no row.");
                }

                var readOnly = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) != 0;
                var innodbReadOnly = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) != 0;
                var position = Text(reader, 2);
                var identity = Text(reader, 3);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                var channels = new List<MySqlReplicaChannel>();
                TimeSpan? auroraLag = null;
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (flavor == MySqlFlavor.AuroraMySql)
                    {
                        auroraLag = reader.IsDBNull(0) ? null : TimeSpan.FromMilliseconds(Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture));
                        continue;
                    }

                    channels.Add(ReadChannel(reader));
                }

                var isPrimary = !readOnly && !innodbReadOnly;
                return new MySqlServerStatus(flavor, isPrimary, position, identity, channels, isPrimary ? TimeSpan.Zero : auroraLag);
            }
        }
    }

    private static MySqlReplicaChannel ReadChannel(DbDataReader reader)
    {
        var io = Text(reader, "Replica_IO_Running", "Slave_IO_Running") ?? "No";
        var sql = Text(reader, "Replica_SQL_Running", "Slave_SQL_Running") ?? "No";
        var behind = Text(reader, "Seconds_Behind_Source", "Seconds_Behind_Master");
        var ioErrno = Text(reader, "Last_IO_Errno", "Last_IO_Errno");
        var sqlErrno = Text(reader, "Last_SQL_Errno", "Last_SQL_Errno");
        return new MySqlReplicaChannel(
            io,
            sql == "Yes",
            long.TryParse(behind, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? seconds : null,
            ioErrno is null or "0" ? null : $"{ioErrno} {Text(reader, "Last_IO_Error", "Last_IO_Error")}",
            sqlErrno is null or "0" ? null : $"{sqlErrno} {Text(reader, "Last_SQL_Error", "Last_SQL_Error")}");
    }

    private static string? Text(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToString(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    private static string? Text(DbDataReader reader, string name, string legacyName)
    {
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var column = reader.GetName(i);
            if (string.Equals(column, name, StringComparison.OrdinalIgnoreCase) || string.Equals(column, legacyName, StringComparison.OrdinalIgnoreCase))
            {
                return reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>The server's error number of a MySQL error, read without depending on the provider's exception type.</summary>
    private static int ErrorNumber(DbException exception) =>
        exception is MySqlConnector.MySqlException mysql ? mysql.Number : exception.ErrorCode;

    /// <summary>What is known of a data source's server: its flavour, and whether it needs <c>SHOW SLAVE STATUS</c>.</summary>
    internal sealed class FlavorInfo(MySqlFlavor flavor)
    {
        public MySqlFlavor Flavor { get; } = flavor;

        public bool LegacyStatus { get; set; }
    }
}
