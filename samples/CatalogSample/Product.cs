namespace CatalogSample;

/// <summary>
/// One row of the catalogue. Immutable: the in-memory cache hands the same instance to every reader.
/// </summary>
/// <remarks>
/// The database keeps prices in cents and timestamps in milliseconds. A write-through cache stores exactly the
/// value passed to <c>WriteAsync</c>, so every changed product is built in the database's precision
/// (<see cref="WithPrice"/>, <see cref="WithStock"/>); otherwise the cache would hold a value the database cannot.
/// </remarks>
public sealed record Product(int Id, string Name, string Category, decimal Price, int Stock, DateTimeOffset UpdatedAt)
{
    public Product WithPrice(decimal price, DateTimeOffset now) =>
        this with { Price = decimal.Round(price, 2, MidpointRounding.AwayFromZero), UpdatedAt = TruncateToMilliseconds(now) };

    public Product WithStock(int stock, DateTimeOffset now) =>
        this with { Stock = stock, UpdatedAt = TruncateToMilliseconds(now) };

    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset time) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
}
