namespace SessionStore.Configuration;

/// <summary>The database: a SQLite file unless <see cref="Postgres"/> is set (PostgreSQL with replicas, through the read/write router).</summary>
public sealed class DatabaseSettings
{
    /// <summary>The SQLite file used when neither <see cref="Sqlite"/> nor <see cref="Postgres"/> is set.</summary>
    public const string DefaultSqliteFile = "sessionstore.db";

    /// <summary>Gets or sets the SQLite file (created and seeded when missing); relative paths are under the content root.</summary>
    public string? Sqlite { get; set; }

    /// <summary>
    /// Gets or sets a PostgreSQL connection string whose <c>Host</c> lists the primary and its replicas
    /// (<c>Host=db1:5432,db2:5432;Username=shop;Database=shop</c>); roles are discovered. Selects PostgreSQL.
    /// </summary>
    public string? Postgres { get; set; }

    /// <summary>Gets or sets how far behind the primary (in time) a replica may be and still serve reads.</summary>
    public TimeSpan MaxReplicaLag { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets a value indicating whether the settings select PostgreSQL.</summary>
    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Postgres);

    /// <summary>
    /// Gets or sets a MariaDB/MySQL connection string whose <c>Server</c> lists the primary and its replicas, a port per
    /// server (<c>Server=db1:3306,db2:3306;User ID=shop;Database=shop</c>); roles are discovered. Selects MariaDB.
    /// </summary>
    public string? MariaDb { get; set; }

    /// <summary>Gets a value indicating whether the settings select MariaDB/MySQL.</summary>
    public bool UsesMariaDb => !string.IsNullOrWhiteSpace(MariaDb);

    /// <summary>Gets a value indicating whether the database is replicated behind the library's read/write router.</summary>
    public bool UsesRouter => UsesPostgres || UsesMariaDb;

    /// <summary>Gets the SQLite file to use: <see cref="Sqlite"/>, or <see cref="DefaultSqliteFile"/> when it is not set.</summary>
    public string SqliteFile => string.IsNullOrWhiteSpace(Sqlite) ? DefaultSqliteFile : Sqlite;
}
