using Dapper;
using Microsoft.AspNetCore.Identity;
using SessionStore.Catalog;
using SessionStore.Security;

namespace SessionStore.Data;

/// <summary>
/// Creates the tables when missing and seeds the demo users and the catalogue once (<c>ON CONFLICT DO NOTHING</c>), so
/// several instances starting on one database agree and an existing database keeps its edits. On PostgreSQL it all runs
/// on the primary in one transaction that first takes an advisory lock, so instances starting together do not race on
/// <c>CREATE TABLE</c>.
/// </summary>
public sealed class DatabaseInitializer(IDbConnectionFactory connections, IPasswordHasher<StoreUser> hasher)
{
    private bool _initialized;

    private const string SqliteSchema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS users (
            name          TEXT PRIMARY KEY,
            display_name  TEXT NOT NULL,
            password_hash TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS products (
            id          INTEGER PRIMARY KEY,
            name        TEXT    NOT NULL,
            category    TEXT    NOT NULL,
            price_cents INTEGER NOT NULL,
            stock       INTEGER NOT NULL
        );
        """;

    private const string PostgreSqlSchema = """
        SELECT pg_advisory_xact_lock(hashtext('CachePatterns.SessionStore schema'));
        CREATE TABLE IF NOT EXISTS users (
            name          text PRIMARY KEY,
            display_name  text NOT NULL,
            password_hash text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS products (
            id          bigint PRIMARY KEY,
            name        text   NOT NULL,
            category    text   NOT NULL,
            price_cents bigint NOT NULL,
            stock       bigint NOT NULL
        );
        """;

    // MariaDB commits DDL at once (no transactional CREATE TABLE); IF NOT EXISTS makes instances starting together agree.
    private const string MariaDbSchema = """
        CREATE TABLE IF NOT EXISTS users (
            name          VARCHAR(64)  PRIMARY KEY,
            display_name  VARCHAR(255) NOT NULL,
            password_hash VARCHAR(512) NOT NULL
        );
        CREATE TABLE IF NOT EXISTS products (
            id          BIGINT       PRIMARY KEY,
            name        VARCHAR(255) NOT NULL,
            category    VARCHAR(64)  NOT NULL,
            price_cents BIGINT       NOT NULL,
            stock       BIGINT       NOT NULL
        );
        """;

    /// <summary>The demo accounts shown on the sign-in page. Not secrets: this is a sample.</summary>
    public static readonly IReadOnlyList<(string Name, string DisplayName, string Password)> DemoUsers =
    [
        ("alice", "Alice Liddell", "wonderland-42"),
        ("bob", "Bob Builder", "can-we-fix-it"),
        ("ada", "Ada Lovelace", "analytical-engine"),
    ];

    /// <summary>The number of products seeded.</summary>
    public static int ProductCount => DemoCatalogue.Products.Count;

    /// <summary>Gets a value indicating whether the schema and the seed are in place.</summary>
    public bool IsInitialized => Volatile.Read(ref _initialized);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenWriteAsync(cancellationToken);
        if (connections.Kind is DatabaseKind.Sqlite or DatabaseKind.MariaDb)
        {
            // SQLite: journal_mode cannot change inside a transaction. MariaDB: DDL commits any transaction.
            var sqlite = connections.Kind == DatabaseKind.Sqlite;
            await connection.ExecuteAsync(new CommandDefinition(sqlite ? SqliteSchema : MariaDbSchema, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(sqlite ? ShopSchema.Sqlite : ShopSchema.MariaDb, cancellationToken: cancellationToken));
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (connections.Kind == DatabaseKind.PostgreSql)
        {
            await connection.ExecuteAsync(new CommandDefinition(PostgreSqlSchema, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(ShopSchema.PostgreSql, transaction: transaction, cancellationToken: cancellationToken));
        }

        foreach (var (name, displayName, password) in DemoUsers)
        {
            var user = new StoreUser(name, displayName);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO users (name, display_name, password_hash) VALUES (@name, @displayName, @hash) " + OnConflictDoNothing("name"),
                new { name, displayName, hash = hasher.HashPassword(user, password) },
                transaction,
                cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO user_roles (name, role) VALUES (@Name, @Role) " + OnConflictDoNothing("name", "role"),
            ShopSchema.DemoRoles.Select(static r => new { r.Name, r.Role }),
            transaction,
            cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO products (id, name, category, price_cents, stock) VALUES (@Id, @Name, @Category, @PriceCents, @Stock) " + OnConflictDoNothing("id"),
            DemoCatalogue.Products.Select(ProductRow.From),
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        Volatile.Write(ref _initialized, true);
    }

    /// <summary>"Keep the existing row" in the database's dialect; <paramref name="keys"/> is the conflicting unique key.</summary>
    private string OnConflictDoNothing(params string[] keys) =>
        connections.Kind == DatabaseKind.MariaDb
            ? $"ON DUPLICATE KEY UPDATE {keys[0]} = {keys[0]}"
            : $"ON CONFLICT ({string.Join(", ", keys)}) DO NOTHING";
}
