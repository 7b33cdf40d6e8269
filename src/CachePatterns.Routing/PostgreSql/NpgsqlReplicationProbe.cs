using System.Data.Common;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>
/// PostgreSQL's role and position probe: <c>pg_is_in_recovery()</c> for the role, <c>pg_current_wal_lsn()</c> on the
/// primary and <c>pg_last_wal_replay_lsn()</c> on a replica for the position (the WAL LSN as a number), and the replay
/// lag in time from <c>pg_last_xact_replay_timestamp()</c> (zero when the replica has replayed all it received, so an idle
/// primary does not inflate it). Works through any ADO.NET data source connected to PostgreSQL.
/// </summary>
public sealed class NpgsqlReplicationProbe : IReplicationProbe
{
    private const string ProbeSql = """
        SELECT pg_is_in_recovery(),
               pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN COALESCE(pg_last_wal_replay_lsn(), '0/0') ELSE pg_current_wal_lsn() END, '0/0')::bigint,
               CASE WHEN NOT pg_is_in_recovery() THEN 0
                    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE(GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())), 0)
               END::float8
        """;

    private const string WritePositionSql = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint";

    /// <summary>Gets the shared instance (the probe is stateless).</summary>
    public static NpgsqlReplicationProbe Instance { get; } = new();

    /// <inheritdoc/>
    public ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken) =>
        QueryAsync(endpoint, ProbeSql, ReadStatusAsync, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<ulong> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken) =>
        QueryAsync(writer, WritePositionSql, ReadPositionAsync, cancellationToken);

    private static async Task<ReplicationStatus> ReadStatusAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("The replication probe returned no row.");
            }

            var inRecovery = reader.GetBoolean(0);
            var position = (ulong)Math.Max(0, reader.GetInt64(1));
            return new ReplicationStatus(!inRecovery, position, TimeSpan.FromSeconds(reader.GetDouble(2)));
        }
    }

    private static async Task<ulong> ReadPositionAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return (ulong)Math.Max(0, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async ValueTask<T> QueryAsync<T>(DbDataSource dataSource, string sql, Func<DbCommand, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = sql;
                return await read(command, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
