namespace CatalogSample;

/// <summary>
/// A <c>products</c> row exactly as SQLite returns it (INTEGER is <see cref="long"/>), so Dapper can call the
/// constructor; <see cref="ToProduct"/> and <see cref="From"/> convert to and from the domain record.
/// </summary>
internal sealed record ProductRow(long Id, string Name, string Category, long PriceCents, long Stock, long UpdatedAtMs)
{
    /// <summary>The column list of every query, aliased to the constructor's parameter names (Dapper matches them in order).</summary>
    public const string Columns =
        "id AS Id, name AS Name, category AS Category, price_cents AS PriceCents, stock AS Stock, updated_at_ms AS UpdatedAtMs";

    public Product ToProduct() =>
        new(checked((int)Id), Name, Category, PriceCents / 100m, checked((int)Stock), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAtMs));

    /// <summary>Converts a product, refusing values the table cannot store exactly (a cache would keep the exact one).</summary>
    public static ProductRow From(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        var cents = product.Price * 100m;
        if (cents != decimal.Truncate(cents))
        {
            throw new ArgumentException($"Product {product.Id}: price {product.Price} has fractions of a cent.", nameof(product));
        }

        if (product.UpdatedAt.UtcTicks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentException($"Product {product.Id}: UpdatedAt has more than millisecond precision.", nameof(product));
        }

        return new ProductRow(product.Id, product.Name, product.Category, (long)cents, product.Stock, product.UpdatedAt.ToUnixTimeMilliseconds());
    }
}
