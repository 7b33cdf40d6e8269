using CachePatterns;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;
using SessionStore.Data;

namespace SessionStore.Pages;

public sealed class IndexModel(ICacheStrategy<int, Product> products, ProductRepository repository) : StorePageModel
{
    public IReadOnlyList<Product> Products { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var ids = await repository.ListIdsAsync(cancellationToken);
        var found = await products.GetManyAsync(ids, cancellationToken);
        Products = [.. ids.Where(found.ContainsKey).Select(id => found[id])];
    }

    public async Task<IActionResult> OnPostAddAsync(int id, int quantity, CancellationToken cancellationToken)
    {
        if (quantity is < 1 or > Sessions.Cart.MaxQuantity)
        {
            TempData["Message"] = $"Choose a quantity from 1 to {Sessions.Cart.MaxQuantity}.";
            return RedirectToPage();
        }

        var product = await products.GetAsync(id, cancellationToken);
        if (product is null)
        {
            return NotFound();
        }

        var inCart = Cart.QuantityOf(id);
        if (inCart + quantity > product.Stock)
        {
            TempData["Error"] = product.Stock == 0
                ? $"{product.Name} is sold out."
                : $"Only {product.Stock} of {product.Name} in stock{(inCart > 0 ? $", and {inCart} already in your cart" : string.Empty)}.";
            return RedirectToPage();
        }

        TempData["Message"] = Cart.Add(id, quantity) ? $"Added {quantity} × {product.Name} to your cart." : $"Your cart is full ({Sessions.Cart.MaxLines} products).";
        Cart.Save(HttpContext.Session);
        return RedirectToPage();
    }
}
