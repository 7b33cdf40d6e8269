using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SessionStore.Pages;

/// <summary>The page shown for an error status without a body (400 from anti-forgery, 404, ...).</summary>
[IgnoreAntiforgeryToken]
public sealed class StatusModel : PageModel
{
    public int Code { get; set; }

    public string Title { get; private set; } = string.Empty;

    public string Message { get; private set; } = string.Empty;

    public void OnGet(int code) => Describe(code);

    public void OnPost(int code) => Describe(code);

    private void Describe(int code)
    {
        Code = code;
        (Title, Message) = code switch
        {
            400 => ("The form could not be accepted",
                "It was sent without a valid anti-forgery token: it expired, or it came from another site. Reload the page and try again; nothing was changed."),
            401 or 403 => ("Please sign in", "This page needs you to be signed in."),
            404 => ("Not found", "There is nothing at this address."),
            405 => ("Not allowed", "This address does not accept that kind of request."),
            _ => ($"Error {code}", "The request could not be completed."),
        };
    }
}
