using System.Security.Claims;
using System.Security.Cryptography;
using CachePatterns;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;
using SessionStore.Statistics;

namespace SessionStore.Pages;

/// <summary>
/// Review the cart and place the order: the order is written through <c>ICacheStrategy&lt;string, Order&gt;</c>
/// (write-through: one transaction takes the stock and inserts the order, then the order goes into the cache), the
/// ordered products are invalidated so every instance reads the new stock, and the cart is emptied.
/// </summary>
[Authorize]
public sealed partial class CheckoutModel(ICacheStrategy<int, Product> products, ICacheStrategy<string, Order> orders, ShopActivity activity, TimeProvider time) : StorePageModel
{
    public IReadOnlyList<(Product Product, int Quantity)> Lines { get; private set; } = [];

    /// <summary>
    /// Gets or sets the order's id, chosen when the checkout page is shown: placing the same order twice (a double
    /// click, a retry after "try again") finds it placed and shows it instead of ordering again.
    /// </summary>
    [BindProperty]
    public string OrderId { get; set; } = string.Empty;

    public decimal Total => Lines.Sum(static l => l.Product.Price * l.Quantity);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        OrderId = time.GetUtcNow().ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture) + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(5));
        await LoadLinesAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var id = OrderId;
        if (!OrderIdFormat().IsMatch(id))
        {
            return BadRequest();
        }

        if (await orders.GetAsync(id, cancellationToken) is { } placed)
        {
            // Placed already (by this request's twin): show it, never order twice.
            return placed.UserName == User.Identity?.Name ? RedirectToPage("/Order", new { id }) : BadRequest();
        }

        await LoadLinesAsync(cancellationToken);
        if (Lines.Count == 0)
        {
            return RedirectToPage("/Cart");
        }

        var order = new Order(id, User.Identity!.Name!, time.GetUtcNow(), [.. Lines.Select(static l => new OrderLine(l.Product.Id, l.Product.Name, l.Quantity, l.Product.Price))]);
        try
        {
            await orders.WriteAsync(id, order, cancellationToken: cancellationToken);
        }
        catch (OutOfStockException ex) when (ex.Line is { } line)
        {
            await products.InvalidateAsync(line.ProductId, cancellationToken);
            TempData["Error"] = $"Sorry, there are no longer {line.Quantity} of {line.Name} in stock. Nothing was ordered; please change your cart.";
            return RedirectToPage("/Cart");
        }

        activity.OrderPlaced();
        foreach (var line in order.Lines)
        {
            await products.InvalidateAsync(line.ProductId, cancellationToken);
        }

        Cart.Clear();
        Cart.Save(HttpContext.Session);
        TempData["Message"] = $"Thank you! Order {id} is placed.";
        return RedirectToPage("/Order", new { id });
    }

    private async Task LoadLinesAsync(CancellationToken cancellationToken)
    {
        var found = await products.GetManyAsync(Cart.Lines.Keys, cancellationToken);
        Lines = [.. Cart.Lines.Where(l => found.ContainsKey(l.Key)).Select(l => (found[l.Key], l.Value))];
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9]{8}-[0-9A-F]{10}$")]
    private static partial System.Text.RegularExpressions.Regex OrderIdFormat();
}
