namespace SessionStore.Configuration;

/// <summary>The database. SQLite for now; PostgreSQL with replicas plugs in behind <c>IDbConnectionFactory</c>.</summary>
public sealed class DatabaseSettings
{
    /// <summary>Gets or sets the SQLite file (created and seeded when missing); relative paths are under the content root.</summary>
    public string Sqlite { get; set; } = "sessionstore.db";
}
