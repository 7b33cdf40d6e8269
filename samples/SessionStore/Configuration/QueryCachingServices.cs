using CachePatterns;
using SessionStore.Catalog;
using SessionStore.Data;

namespace SessionStore.Configuration;

/// <summary>
/// Query results and pages cached with tags on the shop's one cache: <c>HybridCache</c> for the category pages and top
/// sellers, ASP.NET Core output caching for the anonymous catalogue page, and the tags the product and order strategies
/// derive from what they write, so one write invalidates every result built from it, on every instance.
/// </summary>
public static class QueryCachingServices
{
    public static CachePatternsBuilder AddStoreQueryCaching(this CachePatternsBuilder cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        cache.DeriveTags<int, Product>(CatalogTags.Of)
            .DeriveTags<string, Order>(CatalogTags.Of)
            .AddHybridCache()
            .AddOutputCacheStore();
        cache.Services.AddOutputCache(o => o.AddPolicy(
            CatalogTags.CataloguePagePolicy,
            p => p.Tag(CatalogTags.Catalogue).Expire(TimeSpan.FromMinutes(10))));
        cache.Services.AddSingleton<CatalogQueryRepository>();
        cache.Services.AddSingleton<CatalogQueries>();
        return cache;
    }
}
