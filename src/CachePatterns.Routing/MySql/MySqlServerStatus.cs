namespace CachePatterns.Routing.MySql;

/// <summary>Which server family an endpoint runs: the SQL of roles, positions and replica status differs.</summary>
internal enum MySqlFlavor
{
    /// <summary>MySQL (RDS MySQL, community server): <c>@@gtid_executed</c>, <c>WAIT_FOR_EXECUTED_GTID_SET</c>, <c>SHOW REPLICA STATUS</c>.</summary>
    MySql,

    /// <summary>MariaDB: <c>@@gtid_binlog_pos</c> / <c>@@gtid_slave_pos</c>, <c>MASTER_GTID_WAIT</c>, <c>SHOW SLAVE STATUS</c>.</summary>
    MariaDb,

    /// <summary>
    /// Aurora MySQL: the writer has <c>@@innodb_read_only = 0</c>; readers share the writer's storage and report their lag in
    /// <c>information_schema.replica_host_status</c>, with no binlog replication between them and so no GTID position.
    /// </summary>
    AuroraMySql,
}

/// <summary>One replication channel of a replica, as <c>SHOW REPLICA STATUS</c> / <c>SHOW SLAVE STATUS</c> reports it.</summary>
/// <param name="IoState">The IO (receiver) thread: <c>Yes</c> when connected to its source, <c>Connecting</c> while it retries, <c>No</c> when stopped.</param>
/// <param name="SqlRunning">Whether the SQL (applier) thread runs.</param>
/// <param name="SecondsBehind">Seconds_Behind_Master / Seconds_Behind_Source; <see langword="null"/> when the server does not know (a thread is not running or not connected).</param>
/// <param name="LastIoError">The receiver's last error number and text, when it has one.</param>
/// <param name="LastSqlError">The applier's last error number and text, when it has one.</param>
internal readonly record struct MySqlReplicaChannel(string IoState, bool SqlRunning, long? SecondsBehind, string? LastIoError, string? LastSqlError)
{
    /// <summary>Gets a value indicating whether the channel receives from a live source and applies what it receives.</summary>
    public bool IsReceiving => IoState == "Yes" && SqlRunning;

    /// <summary>Why the channel does not receive, for the endpoint's state; <see langword="null"/> when it does.</summary>
    public string? Problem => IsReceiving
        ? null
        : IoState != "Yes"
            ? $"IO thread {IoState}{(LastIoError is null ? string.Empty : ": " + LastIoError)}"
            : $"SQL thread stopped{(LastSqlError is null ? string.Empty : ": " + LastSqlError)}";
}

/// <summary>What one probe of a MySQL or MariaDB server found.</summary>
/// <param name="Flavor">The server family.</param>
/// <param name="IsPrimary">Whether the server accepts writes (<c>@@read_only = 0</c> and <c>@@innodb_read_only = 0</c>).</param>
/// <param name="Position">
/// The server's GTID position as it prints it (MariaDB: <c>@@gtid_binlog_pos</c> on a primary, <c>@@gtid_slave_pos</c> on
/// a replica; MySQL: <c>@@gtid_executed</c>); <see langword="null"/> when the server has no usable GTIDs (binlog or GTID
/// mode off, Aurora readers).
/// </param>
/// <param name="ServerIdentity">The server's <c>@@server_id</c> (MariaDB) or <c>@@server_uuid</c> (MySQL); <see langword="null"/> on Aurora.</param>
/// <param name="Channels">The replica's channels (empty on a primary, and on Aurora readers).</param>
/// <param name="AuroraLag">Aurora readers: <c>REPLICA_LAG_IN_MILLISECONDS</c>; <see langword="null"/> elsewhere or when not reported.</param>
internal sealed record MySqlServerStatus(
    MySqlFlavor Flavor,
    bool IsPrimary,
    string? Position,
    string? ServerIdentity,
    IReadOnlyList<MySqlReplicaChannel> Channels,
    TimeSpan? AuroraLag)
{
    /// <summary>Gets a value indicating whether the server replicates at all: a replica with no channel (after <c>RESET SLAVE ALL</c>) receives nothing.</summary>
    public bool IsReceiving => Flavor == MySqlFlavor.AuroraMySql ? AuroraLag is not null : Channels.Count > 0 && Channels.All(c => c.IsReceiving);

    /// <summary>
    /// Gets how far behind its source the replica's applied data is, as the server reports it (the largest of its
    /// channels); <see langword="null"/> when unknown (not receiving). Includes an intentional <c>MASTER_DELAY</c>.
    /// </summary>
    public TimeSpan? ReportedLag
    {
        get
        {
            if (Flavor == MySqlFlavor.AuroraMySql)
            {
                return AuroraLag;
            }

            if (!IsReceiving || Channels.Any(c => c.SecondsBehind is null))
            {
                return null;
            }

            return TimeSpan.FromSeconds(Channels.Max(c => c.SecondsBehind!.Value));
        }
    }

    /// <summary>Gets why the replica does not receive, or <see langword="null"/>.</summary>
    public string? Problem => IsPrimary || IsReceiving
        ? null
        : Channels.Count == 0
            ? Flavor == MySqlFlavor.AuroraMySql ? "not listed in information_schema.replica_host_status" : "read-only but replicating from nothing"
            : string.Join("; ", Channels.Select(c => c.Problem).Where(p => p is not null));
}
