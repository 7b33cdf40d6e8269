namespace SessionStore.Catalog;

/// <summary>The demo catalogue seeded into an empty database: eight products in each of six categories, prices in euros.</summary>
public static class DemoCatalogue
{
    /// <summary>The currency every price is in.</summary>
    public const string Currency = "EUR";

    private static readonly (string Category, (string Name, decimal Price)[] Items)[] Categories =
    [
        ("Books",
        [
            ("The Pragmatic Programmer", 42.00m), ("Designing Data-Intensive Applications", 46.50m), ("Alice's Adventures in Wonderland", 9.90m),
            ("A Field Guide to Garden Birds", 18.00m), ("The Joy of Cooking", 35.00m), ("Coffee: A Global History", 14.50m),
            ("Zen and the Art of Motorcycle Maintenance", 12.90m), ("The Art of Computer Programming, Vol. 1", 79.00m),
        ]),
        ("Coffee",
        [
            ("Ethiopia Yirgacheffe beans, 250 g", 11.50m), ("Colombia Huila beans, 250 g", 10.90m), ("Espresso blend, 1 kg", 32.00m),
            ("Decaf Swiss Water beans, 250 g", 11.90m), ("Burr coffee grinder", 89.00m), ("Pour-over dripper", 24.00m),
            ("Paper filters, pack of 100", 5.50m), ("Milk frothing jug", 16.00m),
        ]),
        ("Garden",
        [
            ("Terracotta planter, 30 cm", 19.90m), ("Stainless hand trowel", 14.00m), ("Watering can, 5 l", 22.50m), ("Pruning shears", 27.00m),
            ("Heirloom tomato seeds", 3.90m), ("Bird feeder", 18.50m), ("Gardening gloves", 9.90m), ("Solar garden lantern", 24.90m),
        ]),
        ("Kitchen",
        [
            ("Cast-iron skillet, 26 cm", 49.00m), ("Chef's knife, 20 cm", 69.00m), ("Electric kettle", 39.90m), ("Oak cutting board", 29.00m),
            ("Enamel stock pot", 59.00m), ("Digital kitchen scale", 21.50m), ("Silicone spatula set", 12.90m), ("French press, 1 l", 34.00m),
        ]),
        ("Music",
        [
            ("Kind of Blue (vinyl)", 27.90m), ("Abbey Road (vinyl)", 29.90m), ("Soprano ukulele", 59.00m), ("Guitar strings, light gauge", 8.90m),
            ("Harmonica in C", 24.00m), ("Metronome", 19.90m), ("Over-ear headphones", 129.00m), ("Record cleaning kit", 16.50m),
        ]),
        ("Tools",
        [
            ("Cordless drill", 119.00m), ("Claw hammer", 19.90m), ("Screwdriver set, 12 pieces", 24.90m), ("Tape measure, 5 m", 9.50m),
            ("Spirit level, 60 cm", 17.90m), ("Steel toolbox", 34.90m), ("Utility knife", 7.90m), ("Socket wrench set", 64.00m),
        ]),
    ];

    /// <summary>The product that is seeded almost sold out (two left).</summary>
    public const int LowStockProductId = 47;

    /// <summary>The product that is seeded sold out.</summary>
    public const int SoldOutProductId = 48;

    /// <summary>The seeded products, ids 1 to 48 in category order.</summary>
    public static IReadOnlyList<Product> Products { get; } =
    [
        .. Categories.SelectMany(static c => c.Items.Select(i => (c.Category, i.Name, i.Price)))
            .Select(static (p, index) => new Product(index + 1, p.Name, p.Category, p.Price, Stock(index + 1))),
    ];

    private static int Stock(int id) => id switch
    {
        LowStockProductId => 2,
        SoldOutProductId => 0,
        _ => 25 + (id * 7 % 20),
    };
}
