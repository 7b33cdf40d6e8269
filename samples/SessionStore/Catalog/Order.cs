namespace SessionStore.Catalog;

/// <summary>A placed order. Immutable: the in-memory cache hands the same instance to every reader.</summary>
public sealed record Order(string Id, string UserName, DateTimeOffset PlacedAt, IReadOnlyList<OrderLine> Lines)
{
    public decimal Total => Lines.Sum(static l => l.Price * l.Quantity);
}

/// <summary>One line of an order, with the name and price the product had when it was ordered.</summary>
public sealed record OrderLine(int ProductId, string Name, int Quantity, decimal Price);
