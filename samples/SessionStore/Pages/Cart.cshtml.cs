using CachePatterns;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;

namespace SessionStore.Pages;

public sealed class CartModel(ICacheStrategy<int, Product> products) : StorePageModel
{
    public IReadOnlyList<(Product Product, int Quantity)> Lines { get; private set; } = [];

    public decimal Total => Lines.Sum(static l => l.Product.Price * l.Quantity);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var found = await products.GetManyAsync(Cart.Lines.Keys, cancellationToken);
        Lines = [.. Cart.Lines.Where(l => found.ContainsKey(l.Key)).Select(l => (found[l.Key], l.Value))];
    }

    public IActionResult OnPostRemove(int id)
    {
        Cart.Remove(id);
        Cart.Save(HttpContext.Session);
        return RedirectToPage();
    }
}
