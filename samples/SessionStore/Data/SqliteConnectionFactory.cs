using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace SessionStore.Data;

/// <summary>
/// SQLite in one file (WAL mode, so instances sharing the file read while one writes). Reads and writes go to the same
/// file; writes wait for the write lock inside SQLite (<c>busy_timeout</c>) instead of failing with SQLITE_BUSY.
/// </summary>
public sealed class SqliteConnectionFactory : IDbConnectionFactory
{
    private readonly string _connectionString;

    public SqliteConnectionFactory(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
    }

    public string FilePath { get; }

    public string Description => $"SQLite {Path.GetFileName(FilePath)}";

    public DatabaseKind Kind => DatabaseKind.Sqlite;

    public IReadOnlyList<DatabaseServer> DescribeServers() => [];

    public async ValueTask<DbConnection> OpenReadAsync(CancellationToken cancellationToken) =>
        await OpenAsync(cancellationToken);

    public async ValueTask<DbConnection> OpenWriteAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous = NORMAL;", cancellationToken: cancellationToken));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA busy_timeout = 5000;", cancellationToken: cancellationToken));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
