using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using SessionStore.Security;

namespace SessionStore.Pages;

public sealed class SignInModel(AccountService accounts) : StorePageModel
{
    [BindProperty]
    [Required(ErrorMessage = "Enter your user name.")]
    [StringLength(64, ErrorMessage = "A user name has at most 64 characters.")]
    public string UserName { get; set; } = string.Empty;

    [BindProperty]
    [Required(ErrorMessage = "Enter your password.")]
    [StringLength(256, ErrorMessage = "A password has at most 256 characters.")]
    [DataType(DataType.Password)]
    public string Password { get; set; } = string.Empty;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Expired { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var (user, refusal) = await accounts.SignInAsync(HttpContext, UserName, Password, cancellationToken);
        if (refusal is not null)
        {
            Error = refusal.Message;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = ((int)Math.Ceiling(refusal.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Page();
        }

        if (user is null)
        {
            Error = "Wrong user name or password.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        TempData["Message"] = $"Welcome, {user.DisplayName}.";
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }
}
