namespace CatalogSample;

/// <summary>Generates a deterministic catalogue: the same count and seed always give the same products.</summary>
public static class CatalogSeedData
{
    private static readonly string[] Categories =
    [
        "Automotive", "Beauty", "Books", "Clothing", "Electronics", "Garden",
        "Grocery", "Kitchen", "Music", "Office", "Sports", "Toys",
    ];

    private static readonly string[] Adjectives =
    [
        "Classic", "Compact", "Deluxe", "Eco", "Essential", "Foldable", "Heavy-duty", "Lightweight",
        "Modern", "Portable", "Premium", "Rechargeable", "Smart", "Vintage", "Waterproof", "Wireless",
    ];

    private static readonly string[] Nouns =
    [
        "Backpack", "Blender", "Camera", "Chair", "Desk Lamp", "Headphones", "Jacket", "Kettle",
        "Notebook", "Puzzle", "Racket", "Speaker", "Sunglasses", "Tent", "Toolkit", "Watch",
    ];

    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IEnumerable<Product> Generate(int count, int seed)
    {
        var random = new Random(seed);
        for (var id = 1; id <= count; id++)
        {
            var name = $"{Adjectives[random.Next(Adjectives.Length)]} {Nouns[random.Next(Nouns.Length)]} {id:D5}";
            var category = Categories[random.Next(Categories.Length)];
            var price = random.Next(99, 50_000) / 100m;
            var stock = random.Next(0, 1_001);
            var updatedAt = Epoch.AddMilliseconds(random.NextInt64(0, (long)TimeSpan.FromDays(365).TotalMilliseconds));
            yield return new Product(id, name, category, price, stock, updatedAt);
        }
    }
}
