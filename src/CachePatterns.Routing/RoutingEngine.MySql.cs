namespace CachePatterns.Routing;

/// <content>The MySQL / MariaDB / Aurora MySQL engine.</content>
public abstract partial class RoutingEngine
{
    /// <summary>
    /// Gets the MySQL engine (MySqlConnector), for MySQL, MariaDB and Aurora MySQL alike (told apart per server): roles from
    /// <c>@@read_only</c> / <c>@@innodb_read_only</c>, GTID positions (MariaDB <c>@@gtid_binlog_pos</c>, MySQL
    /// <c>@@gtid_executed</c>), replicas receiving while their IO thread is connected and their SQL thread runs.
    /// Server lists in <see cref="RoutingOptions.ConnectionString"/> take a port per server: <c>Server=db1:3306,db2:3307</c>.
    /// </summary>
    public static RoutingEngine MySql { get; } = new MySql.MySqlEngine();
}
