using CachePatterns;
using Dapper;
using SessionStore.Catalog;

namespace SessionStore.Data;

/// <summary>
/// The catalogue's system of record, through Dapper. It is the cache's loader (one row, or many with one <c>IN</c>
/// query) and writer (UPSERT, DELETE); the app reads and edits products through <c>ICacheStrategy&lt;int, Product&gt;</c>.
/// </summary>
public sealed class ProductRepository(IDbConnectionFactory connections) : ICacheLoader<int, Product>, ICacheWriter<int, Product>
{
    private const string SelectOne = $"SELECT {ProductRow.Columns} FROM products WHERE id = @id";
    // Dapper expands IN @ids into one parameter per id for SQLite and MariaDB; Npgsql takes the list as one array parameter.
    private const string SelectManySqlite = $"SELECT {ProductRow.Columns} FROM products WHERE id IN @ids";
    private const string SelectManyPostgreSql = $"SELECT {ProductRow.Columns} FROM products WHERE id = ANY(@ids)";
    private const string UpsertMariaDb = """
        INSERT INTO products (id, name, category, price_cents, stock)
        VALUES (@Id, @Name, @Category, @PriceCents, @Stock)
        ON DUPLICATE KEY UPDATE
            name = VALUES(name), category = VALUES(category), price_cents = VALUES(price_cents), stock = VALUES(stock)
        """;

    private const string Upsert = """
        INSERT INTO products (id, name, category, price_cents, stock)
        VALUES (@Id, @Name, @Category, @PriceCents, @Stock)
        ON CONFLICT (id) DO UPDATE SET
            name = excluded.name, category = excluded.category, price_cents = excluded.price_cents, stock = excluded.stock
        """;

    /// <summary>The ids of the catalogue in display order (the list itself is not cached; the products are).</summary>
    public async Task<IReadOnlyList<int>> ListIdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var ids = await connection.QueryAsync<long>(new CommandDefinition("SELECT id FROM products ORDER BY category, id", cancellationToken: cancellationToken));
        return [.. ids.Select(static id => checked((int)id))];
    }

    public async ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ProductRow>(new CommandDefinition(SelectOne, new { id = key }, cancellationToken: cancellationToken));
        return row is null ? LoadResult.NotFound<Product>() : LoadResult.Found(row.ToProduct());
    }

    public async ValueTask<IReadOnlyDictionary<int, LoadResult<Product>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var query = connections.Kind == DatabaseKind.PostgreSql
            ? new CommandDefinition(SelectManyPostgreSql, new { ids = keys.Select(static id => (long)id).ToArray() }, cancellationToken: cancellationToken)
            : new CommandDefinition(SelectManySqlite, new { ids = keys }, cancellationToken: cancellationToken);
        var rows = await connection.QueryAsync<ProductRow>(query);
        return rows.Select(static row => row.ToProduct()).ToDictionary(static p => p.Id, static p => LoadResult.Found(p));
    }

    public async ValueTask WriteAsync(int key, Product value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Id != key)
        {
            throw new ArgumentException($"Key {key} does not match product id {value.Id}.", nameof(key));
        }

        await using var connection = await connections.OpenWriteAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(connections.Kind == DatabaseKind.MariaDb ? UpsertMariaDb : Upsert, ProductRow.From(value), cancellationToken: cancellationToken));
    }

    public async ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenWriteAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM products WHERE id = @id", new { id = key }, cancellationToken: cancellationToken));
    }
}
