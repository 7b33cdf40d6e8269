using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SessionStore.Sessions;

namespace SessionStore.Pages;

/// <summary>
/// Base of the shop's pages: loads the session's cart before the handler (for the header's cart count) and stores the
/// session's changes after it, before the answer is sent: a change the session store did not take is answered 503
/// "not saved, try again", never "Added".
/// </summary>
public abstract class StorePageModel : PageModel
{
    public Cart Cart { get; private set; } = null!;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        Cart = await Cart.LoadAsync(HttpContext.Session, HttpContext.RequestAborted);
        if (HttpContext.Session is ShopSession { Discarded: true } && User.Identity?.IsAuthenticated == true)
        {
            // The dropped session held the sign-in: this very page already shows the user signed out.
            await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            HttpContext.User = new ClaimsPrincipal(new ClaimsIdentity());
        }

        ViewData["CartCount"] = Cart.ItemCount;
        var executed = await next();
        if (executed.Exception is not null || HttpContext.Session is not ShopSession { HasPendingChanges: true } session)
        {
            return;
        }

        try
        {
            await session.CommitAsync(HttpContext.RequestAborted);
        }
        catch (SessionUnavailableException ex)
        {
            HttpContext.RequestServices.GetRequiredService<SessionOutageLog>().Report(ex);
            SessionUnavailable.Answer(HttpContext, changeLost: true);
            executed.Result = new StatusCodeResult(StatusCodes.Status503ServiceUnavailable);
        }
    }
}
