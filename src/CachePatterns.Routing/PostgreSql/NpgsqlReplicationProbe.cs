using System.Data.Common;
using System.Globalization;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>
/// PostgreSQL's probe, one query: <c>pg_is_in_recovery()</c> for the role; the position as (timeline, LSN) — on the primary
/// <c>pg_current_wal_lsn()</c> on its insert timeline (from <c>pg_walfile_name</c>), on a replica
/// <c>pg_last_wal_replay_lsn()</c> on the timeline its WAL receiver streams (<c>pg_stat_wal_receiver.received_tli</c>), else
/// on the timeline of its last restartpoint; whether the WAL receiver is streaming; and the replay lag in time from
/// <c>pg_last_xact_replay_timestamp()</c> (zero when the replica has replayed all it received, so an idle primary does not
/// inflate it — which is why the router does not rely on it alone). Works through any ADO.NET data source for PostgreSQL.
/// </summary>
/// <remarks>
/// The receive status and received timeline are visible to superusers and members of <c>pg_read_all_stats</c>
/// (<c>pg_monitor</c>); for other roles a replica counts as receiving while a WAL receiver process exists, and its timeline
/// is its last restartpoint's. Grant <c>pg_monitor</c> to the role the router connects with.
/// </remarks>
public sealed class NpgsqlReplicationProbe : IReplicationProbe
{
    private const string ProbeSql = """
        SELECT r.recovery,
               CASE WHEN NOT r.recovery THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint
                    ELSE COALESCE((SELECT received_tli FROM pg_stat_wal_receiver WHERE status = 'streaming'), (SELECT timeline_id FROM pg_control_checkpoint()))
               END,
               pg_wal_lsn_diff(CASE WHEN r.recovery THEN COALESCE(pg_last_wal_replay_lsn(), '0/0') ELSE pg_current_wal_lsn() END, '0/0')::bigint,
               CASE WHEN NOT r.recovery THEN 0
                    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE(GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())), 0)
               END::float8,
               NOT r.recovery OR EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' OR (status IS NULL AND pid IS NOT NULL))
        FROM (SELECT pg_is_in_recovery() AS recovery) r
        """;

    private const string WritePositionSql = """
        SELECT ('x' || substr(pg_walfile_name(l.lsn), 1, 8))::bit(32)::bigint, pg_wal_lsn_diff(l.lsn, '0/0')::bigint
        FROM (SELECT pg_current_wal_lsn() AS lsn) l
        """;

    /// <summary>Gets the shared instance (the probe is stateless).</summary>
    public static NpgsqlReplicationProbe Instance { get; } = new();

    /// <inheritdoc/>
    public ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken) =>
        QueryAsync(endpoint, ProbeSql, ReadStatus, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<ReplicationPosition> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken) =>
        QueryAsync<ReplicationPosition>(writer, WritePositionSql, reader => Position(reader, 0), cancellationToken);

    private static ReplicationStatus ReadStatus(DbDataReader reader)
    {
        var inRecovery = reader.GetBoolean(0);
        var lag = TimeSpan.FromSeconds(reader.GetDouble(3));
        var receiving = reader.GetBoolean(4);
        return new ReplicationStatus(!inRecovery, Position(reader, 1), receiving ? lag : TimeSpan.Zero, receiving);
    }

    private static PgPosition Position(DbDataReader reader, int first) =>
        new((uint)Math.Clamp(Convert.ToInt64(reader.GetValue(first), CultureInfo.InvariantCulture), 0, uint.MaxValue), (ulong)Math.Max(0, reader.GetInt64(first + 1)));

    private static async ValueTask<T> QueryAsync<T>(DbDataSource dataSource, string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = sql;
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                        ? read(reader)
                        : throw new InvalidOperationException("The replication probe returned no row.");
                }
            }
        }
    }
}
