using SessionStore.Catalog;

namespace SessionStore.Data;

/// <summary>A <c>products</c> row as SQLite returns it (INTEGER is <see cref="long"/>), converted to and from <see cref="Product"/>.</summary>
internal sealed record ProductRow(long Id, string Name, string Category, long PriceCents, long Stock)
{
    public const string Columns = "id AS Id, name AS Name, category AS Category, price_cents AS PriceCents, stock AS Stock";

    public Product ToProduct() => new(checked((int)Id), Name, Category, PriceCents / 100m, checked((int)Stock));

    public static ProductRow From(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        var cents = product.Price * 100m;
        if (cents != decimal.Truncate(cents))
        {
            throw new ArgumentException($"Product {product.Id}: price {product.Price} has fractions of a cent.", nameof(product));
        }

        return new ProductRow(product.Id, product.Name, product.Category, (long)cents, product.Stock);
    }
}
