using CachePatterns;
using Dapper;

namespace CatalogSample;

/// <summary>
/// The system of record for products: Dapper over SQLite. It is the cache's loader (one row, or many rows with
/// one <c>IN</c> query) and writer (UPSERT, DELETE), and it counts the SQL statements it runs.
/// </summary>
public sealed class ProductRepository : ICacheLoader<int, Product>, ICacheWriter<int, Product>
{
    private const string SelectOne = $"SELECT {ProductRow.Columns} FROM products WHERE id = @id";
    private const string SelectMany = $"SELECT {ProductRow.Columns} FROM products WHERE id IN @ids";
    private const string SelectAll = $"SELECT {ProductRow.Columns} FROM products ORDER BY id";
    private const string Upsert = """
        INSERT INTO products (id, name, category, price_cents, stock, updated_at_ms)
        VALUES (@Id, @Name, @Category, @PriceCents, @Stock, @UpdatedAtMs)
        ON CONFLICT (id) DO UPDATE SET
            name = excluded.name,
            category = excluded.category,
            price_cents = excluded.price_cents,
            stock = excluded.stock,
            updated_at_ms = excluded.updated_at_ms
        """;
    private const string Delete = "DELETE FROM products WHERE id = @id";

    private readonly CatalogDatabase _database;
    private long _singleSelects;
    private long _batchSelects;
    private long _writes;

    public ProductRepository(CatalogDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <summary>Gets how many statements ran so far: one-row SELECTs, <c>IN</c> SELECTs, and UPSERTs or DELETEs.</summary>
    public SqlStatementCounts Statements =>
        new(Interlocked.Read(ref _singleSelects), Interlocked.Read(ref _batchSelects), Interlocked.Read(ref _writes));

    public async Task<Product?> FindAsync(int id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _singleSelects);
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ProductRow>(
            new CommandDefinition(SelectOne, new { id }, cancellationToken: cancellationToken));
        return row?.ToProduct();
    }

    public async Task<IReadOnlyList<Product>> FindManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }

        Interlocked.Increment(ref _batchSelects);
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ProductRow>(
            new CommandDefinition(SelectMany, new { ids }, cancellationToken: cancellationToken));
        return [.. rows.Select(static row => row.ToProduct())];
    }

    /// <summary>Reads the whole table (the consistency check compares the cache with it). Not counted.</summary>
    public async Task<IReadOnlyList<Product>> FindAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ProductRow>(new CommandDefinition(SelectAll, cancellationToken: cancellationToken));
        return [.. rows.Select(static row => row.ToProduct())];
    }

    // ICacheLoader: called by the cache on a miss.
    public async ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken) =>
        await FindAsync(key, cancellationToken) is { } product
            ? LoadResult.Found(product)
            : LoadResult.NotFound<Product>();

    // ICacheLoader: called by GetManyAsync with the keys that missed; one query instead of one per key.
    // Keys absent from the result are treated as not found.
    public async ValueTask<IReadOnlyDictionary<int, LoadResult<Product>>> LoadManyAsync(
        IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        var products = await FindManyAsync(keys, cancellationToken);
        return products.ToDictionary(static p => p.Id, static p => LoadResult.Found(p));
    }

    // ICacheWriter: the strategy calls it before it touches the cache.
    public async ValueTask WriteAsync(int key, Product value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Id != key)
        {
            throw new ArgumentException($"Key {key} does not match product id {value.Id}.", nameof(key));
        }

        var row = ProductRow.From(value);
        Interlocked.Increment(ref _writes);
        await using var connection = await _database.OpenForWriteAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(Upsert, row, cancellationToken: cancellationToken));
    }

    public async ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writes);
        await using var connection = await _database.OpenForWriteAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(Delete, new { id = key }, cancellationToken: cancellationToken));
    }
}
