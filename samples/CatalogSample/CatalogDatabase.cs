using Dapper;
using Microsoft.Data.Sqlite;

namespace CatalogSample;

/// <summary>
/// A throw-away SQLite database in a temporary file (WAL mode), seeded with the catalogue and deleted on dispose.
/// Each scenario of the sample gets its own, so every run starts from the same rows.
/// </summary>
public sealed class CatalogDatabase : IDisposable
{
    private const string Schema = """
        CREATE TABLE products (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL,
            category      TEXT    NOT NULL,
            price_cents   INTEGER NOT NULL,
            stock         INTEGER NOT NULL,
            updated_at_ms INTEGER NOT NULL
        );
        CREATE INDEX ix_products_category ON products (category);
        """;

    private const string Insert = """
        INSERT INTO products (id, name, category, price_cents, stock, updated_at_ms)
        VALUES (@Id, @Name, @Category, @PriceCents, @Stock, @UpdatedAtMs)
        """;

    private CatalogDatabase(string path)
    {
        FilePath = path;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
        }.ToString();
    }

    public string FilePath { get; }

    public string ConnectionString { get; }

    /// <summary>Creates the database file, its schema, and inserts <paramref name="products"/> in one transaction.</summary>
    public static async Task<CatalogDatabase> CreateAsync(IEnumerable<Product> products, CancellationToken cancellationToken)
    {
        var database = new CatalogDatabase(Path.Combine(Path.GetTempPath(), $"catalog-sample-{Guid.NewGuid():N}.db"));
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);

            // WAL lets readers run while a writer commits; the setting is stored in the file.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode = WAL;", cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(Schema, cancellationToken: cancellationToken));

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                Insert, products.Select(ProductRow.From), transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>Opens a pooled connection.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a pooled connection for writing, with two per-connection settings (so they are set each time):
    /// <c>busy_timeout</c> makes a writer that finds the write lock taken wait for it inside SQLite, in short steps,
    /// instead of failing with SQLITE_BUSY and being retried by Microsoft.Data.Sqlite after a 150 ms sleep;
    /// <c>synchronous = NORMAL</c> is durable across application crashes in WAL mode and skips the fsync on every commit.
    /// </summary>
    public async Task<SqliteConnection> OpenForWriteAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;", cancellationToken: cancellationToken));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public void Dispose()
    {
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(FilePath + suffix);
            }
            catch (IOException)
            {
                // A leftover file in the temp directory is harmless.
            }
        }
    }
}
