using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SessionStore.Sessions;

namespace SessionStore.Pages;

/// <summary>Base of the shop's pages: loads the session's cart before the handler, for the header's cart count.</summary>
public abstract class StorePageModel : PageModel
{
    public Cart Cart { get; private set; } = null!;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Cart = await Cart.LoadAsync(HttpContext.Session, HttpContext.RequestAborted);
        ViewData["CartCount"] = Cart.ItemCount;
        await next();
    }
}
