using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SessionStore.Sessions;

namespace SessionStore.Pages;

/// <summary>The page shown for an error status without a body (400 from anti-forgery, 403, 404, 429, 503, ...).</summary>
[IgnoreAntiforgeryToken]
public sealed class StatusModel : PageModel
{
    public int Code { get; private set; }

    public string Title { get; private set; } = string.Empty;

    public string Message { get; private set; } = string.Empty;

    public void OnGet(int code) => Describe(code);

    public void OnPost(int code) => Describe(code);

    private void Describe(int code)
    {
        // Re-executed: the status is the original response's (the route value is only the fallback for a direct visit).
        Code = HttpContext.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalStatusCode is int original and >= 400 ? original : code;
        var changeLost = HttpContext.Items.ContainsKey(SessionUnavailable.ChangeLostItem);
        (Title, Message) = Code switch
        {
            400 => ("The form could not be accepted",
                "It was sent without a valid anti-forgery token: it expired, or it came from another site. Reload the page and try again; nothing was changed."),
            401 => ("Please sign in", "This page needs you to be signed in."),
            403 => ("Not for your account", "This page is for the shop's administrators. Your account cannot open it."),
            404 => ("Not found", "There is nothing at this address."),
            405 => ("Not allowed", "This address does not accept that kind of request."),
            429 => ("Too many requests", "You sent more requests than the shop takes from one address in a minute. Wait a minute, then try again; nothing was changed."),
            503 when changeLost => ("Please try again in a moment",
                "Your change was not saved: the shop's session storage did not answer. Your cart and your sign-in are as they were before; try again in a few seconds."),
            503 => ("Please try again in a moment",
                "The shop's session storage did not answer just now. You are still signed in and your cart is kept; reload the page in a few seconds."),
            >= 500 => ("Something went wrong", "The request could not be completed. Nothing you did caused this; try again in a moment."),
            _ => ("The request could not be completed", $"The shop answered {Code}. Go back and try again."),
        };
    }
}
