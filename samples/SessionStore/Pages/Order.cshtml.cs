using CachePatterns;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Catalog;
using SessionStore.Security;

namespace SessionStore.Pages;

/// <summary>One order, read through the cache (write-through put it there when it was placed). Its owner and administrators only.</summary>
[Authorize]
public sealed class OrderModel(ICacheStrategy<string, Order> orders) : StorePageModel
{
    public Order Order { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (id.Length > 64 || await orders.GetAsync(id, cancellationToken) is not { } order
            || (order.UserName != User.Identity?.Name && !User.IsInRole(Roles.Administrator)))
        {
            return NotFound();
        }

        Order = order;
        return Page();
    }
}
