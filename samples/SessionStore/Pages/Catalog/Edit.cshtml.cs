using System.ComponentModel.DataAnnotations;
using System.Globalization;
using CachePatterns;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;
using SessionStore.Data;
using SessionStore.Security;

namespace SessionStore.Pages.Catalog;

[Authorize(Policy = Roles.AdministratorPolicy)]
public sealed class EditModel(ICacheStrategy<int, Product> products, ProductRepository repository) : StorePageModel
{
    [BindProperty(SupportsGet = true)]
    public int Id { get; set; }

    [BindProperty]
    [Required(ErrorMessage = "Enter a name.")]
    [StringLength(80, ErrorMessage = "A name has at most 80 characters.")]
    public string Name { get; set; } = string.Empty;

    [BindProperty]
    [Range(typeof(decimal), "0", "100000", ErrorMessage = "The price must be between 0 and 100000.")]
    public decimal Price { get; set; }

    [BindProperty]
    [Range(0, 1_000_000, ErrorMessage = "The stock must be between 0 and 1000000.")]
    public int Stock { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await products.GetAsync(Id, cancellationToken) is not { } product)
        {
            return NotFound();
        }

        (Name, Price, Stock) = (product.Name, product.Price, product.Stock);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (await products.GetAsync(Id, cancellationToken) is not { } product)
        {
            return NotFound();
        }

        if (decimal.Round(Price, 2) != Price)
        {
            ModelState.AddModelError(nameof(Price), "Write the price with at most two decimals, like 12.50.");
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        await products.WriteAsync(Id, product with { Name = Name.Trim(), Price = Price, Stock = Stock }, cancellationToken: cancellationToken);

        // The confirmation shows what the database now holds, read back through the read path: with replicas, the
        // request's read-your-writes scope sends this read to the primary or a replica that has replayed the write.
        var stored = await repository.LoadAsync(Id, cancellationToken);
        TempData["Message"] = stored is { Found: true, Value: { } saved }
            ? string.Create(CultureInfo.InvariantCulture, $"Saved {saved.Name}: {saved.Price:0.00}, {saved.Stock} in stock.")
            : $"Saved {Name.Trim()}.";
        return RedirectToPage("/Index");
    }
}
