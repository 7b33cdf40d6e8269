namespace SessionStore.Data;

/// <summary>The SQL dialect behind an <see cref="IDbConnectionFactory"/>, for the few statements that differ (the schema).</summary>
public enum DatabaseKind
{
    /// <summary>SQLite (one file, WAL mode).</summary>
    Sqlite,

    /// <summary>PostgreSQL, a primary and its replicas through the read/write router.</summary>
    PostgreSql,

    /// <summary>MariaDB or MySQL, a primary and its GTID replicas through the read/write router.</summary>
    MariaDb,
}
