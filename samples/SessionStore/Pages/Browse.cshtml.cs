using CachePatterns;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.OutputCaching;
using SessionStore.Catalog;
using SessionStore.Data;

namespace SessionStore.Pages;

/// <summary>
/// The anonymous catalogue: every product, without forms or anything about the visitor, so one rendering serves every
/// anonymous visitor from ASP.NET Core's output cache (stored through CachePatterns, <c>AddOutputCacheStore()</c>). Tagged
/// <see cref="CatalogTags.Catalogue"/>: a product edit or an order evicts it on every instance, and a rendering that began
/// before such a write is not stored. Signed-in visitors are never served from the output cache.
/// </summary>
[OutputCache(PolicyName = CatalogTags.CataloguePagePolicy)]
public sealed class BrowseModel(ICacheStrategy<int, Product> products, ProductRepository repository) : PageModel
{
    public IReadOnlyList<Product> Products { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var ids = await repository.ListIdsAsync(cancellationToken);
        var found = await products.GetManyAsync(ids, cancellationToken);
        Products = [.. ids.Where(found.ContainsKey).Select(id => found[id])];
    }
}
