using Dapper;
using SessionStore.Catalog;

namespace SessionStore.Data;

/// <summary>
/// The catalogue's query results, read straight from the database (<see cref="CatalogQueries"/> caches them with tags):
/// one page of a category, and the best-selling products over every order.
/// </summary>
public sealed class CatalogQueryRepository(IDbConnectionFactory connections)
{
    public async Task<CategoryPage> CategoryPageAsync(string category, int page, int pageSize, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM products WHERE category = @category", new { category }, cancellationToken: cancellationToken));
        var rows = await connection.QueryAsync<ProductRow>(new CommandDefinition(
            $"SELECT {ProductRow.Columns} FROM products WHERE category = @category ORDER BY id LIMIT @take OFFSET @skip",
            new { category, take = pageSize, skip = (page - 1) * pageSize },
            cancellationToken: cancellationToken));
        return new CategoryPage(category, page, (int)((total + pageSize - 1) / pageSize), [.. rows.Select(static r => r.ToProduct())]);
    }

    public async Task<IReadOnlyList<TopSeller>> TopSellersAsync(int count, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var rows = await connection.QueryAsync<TopSellerRow>(new CommandDefinition(
            """
            SELECT p.id AS Id, p.name AS Name, p.category AS Category, SUM(l.quantity) AS Sold
            FROM order_lines l JOIN products p ON p.id = l.product_id
            GROUP BY p.id, p.name, p.category
            ORDER BY Sold DESC, p.id
            LIMIT @count
            """,
            new { count },
            cancellationToken: cancellationToken));
        return [.. rows.Select(static r => new TopSeller(checked((int)r.Id), r.Name, r.Category, checked((int)r.Sold)))];
    }

    /// <summary>Settable properties, so Dapper converts each dialect's number types (SUM is DECIMAL on MariaDB).</summary>
    private sealed class TopSellerRow
    {
        public long Id { get; set; }

        public string Name { get; set; } = string.Empty;

        public string Category { get; set; } = string.Empty;

        public long Sold { get; set; }
    }
}
