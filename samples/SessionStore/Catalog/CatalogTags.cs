namespace SessionStore.Catalog;

/// <summary>
/// The cache tags of the shop's query results and pages (one tag space per named cache: the output-cached pages, the
/// <c>HybridCache</c> query results and the strategies' derived tags all meet here). A product write invalidates
/// <see cref="Catalogue"/>, its category (old and new: the library derives the tags of both values) and
/// <see cref="TopSellers"/> (which shows its name); an order
/// invalidates <see cref="TopSellers"/> and <see cref="Catalogue"/> (it took stock, which every listing shows).
/// </summary>
public static class CatalogTags
{
    /// <summary>Every listing of products: the output-cached catalogue page and the category pages.</summary>
    public const string Catalogue = "catalogue";

    /// <summary>The "top sellers" aggregate over the orders.</summary>
    public const string TopSellers = "top-sellers";

    /// <summary>The output-cache policy of the anonymous catalogue page.</summary>
    public const string CataloguePagePolicy = "catalogue-page";

    /// <summary>The tag of one category's pages.</summary>
    public static string Category(string category) => "category:" + category;

    /// <summary>The query results a write of <paramref name="product"/> outdates.</summary>
    public static IEnumerable<string> Of(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return [Catalogue, Category(product.Category), TopSellers];
    }

    /// <summary>The query results a placed <paramref name="order"/> outdates.</summary>
    public static IEnumerable<string> Of(Order order) => [TopSellers, Catalogue];
}
