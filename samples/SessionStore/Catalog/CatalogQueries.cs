using Microsoft.Extensions.Caching.Hybrid;
using SessionStore.Data;

namespace SessionStore.Catalog;

/// <summary>One page of a category's products.</summary>
public sealed record CategoryPage(string Category, int Page, int PageCount, IReadOnlyList<Product> Products);

/// <summary>A product and how many of it were ordered.</summary>
public sealed record TopSeller(int Id, string Name, string Category, int Sold);

/// <summary>
/// Query results cached through Microsoft's <see cref="HybridCache"/> abstraction, which CachePatterns implements
/// (<c>AddHybridCache()</c>): each result carries the tags of the rows it was built from (<see cref="CatalogTags"/>),
/// and the product and order writes invalidate those tags, so the next load after a write shows it. A load that began
/// before such a write is not stored (fenced), on every instance.
/// </summary>
public sealed class CatalogQueries(HybridCache cache, CatalogQueryRepository repository)
{
    /// <summary>Products per category page.</summary>
    public const int PageSize = 4;

    /// <summary>How many products "top sellers" lists.</summary>
    public const int TopSellerCount = 5;

    private static readonly HybridCacheEntryOptions TenMinutes = new() { Expiration = TimeSpan.FromMinutes(10) };

    public ValueTask<CategoryPage> CategoryPageAsync(string category, int page, CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(
            $"category:{category}:page:{page}",
            (Repository: repository, Category: category, Page: page),
            static (s, ct) => new ValueTask<CategoryPage>(s.Repository.CategoryPageAsync(s.Category, s.Page, PageSize, ct)),
            TenMinutes,
            [CatalogTags.Catalogue, CatalogTags.Category(category)],
            cancellationToken);

    public ValueTask<IReadOnlyList<TopSeller>> TopSellersAsync(CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(
            "top-sellers",
            repository,
            static (r, ct) => new ValueTask<IReadOnlyList<TopSeller>>(r.TopSellersAsync(TopSellerCount, ct)),
            TenMinutes,
            [CatalogTags.TopSellers],
            cancellationToken);
}
