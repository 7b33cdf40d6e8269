using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;

namespace SessionStore.Pages.Catalog;

/// <summary>One page of a category: a query result cached through <c>HybridCache</c> with the category's tags.</summary>
public sealed class CategoryModel(CatalogQueries queries) : StorePageModel
{
    public CategoryPage Result { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string name, int pageNumber, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 80 || pageNumber is < 1 or > 1000)
        {
            return NotFound();
        }

        Result = await queries.CategoryPageAsync(name, pageNumber, cancellationToken);
        return Result.Products.Count == 0 ? NotFound() : Page();
    }
}
