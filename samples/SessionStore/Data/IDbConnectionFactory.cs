using System.Data.Common;

namespace SessionStore.Data;

/// <summary>
/// Opens database connections, one kind for reads and one for writes. Everything the app runs goes through it, so a
/// read/write router (writer plus read replicas) can replace the SQLite implementation without touching the repositories.
/// </summary>
public interface IDbConnectionFactory
{
    /// <summary>A short description for the statistics page (no secrets).</summary>
    string Description { get; }

    /// <summary>The SQL dialect.</summary>
    DatabaseKind Kind { get; }

    /// <summary>Per-server health for the statistics page (no secrets); empty for a single database.</summary>
    IReadOnlyList<DatabaseServer> DescribeServers();

    /// <summary>Opens a connection for queries that may be served by a replica.</summary>
    ValueTask<DbConnection> OpenReadAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection to the writer, for statements that change data and reads that must see them.</summary>
    ValueTask<DbConnection> OpenWriteAsync(CancellationToken cancellationToken);
}
