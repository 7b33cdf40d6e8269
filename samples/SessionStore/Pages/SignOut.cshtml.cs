using Microsoft.AspNetCore.Mvc;
using SessionStore.Security;

namespace SessionStore.Pages;

/// <summary>POST only (with the anti-forgery token): a link or an image on another site cannot sign anyone out.</summary>
public sealed class SignOutModel : StorePageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await AccountService.SignOutAsync(HttpContext);
        return RedirectToPage("/Index");
    }
}
