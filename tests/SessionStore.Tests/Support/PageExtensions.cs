using Microsoft.Playwright;

namespace SessionStore.Tests.Support;

/// <summary>What a person does in the shop with the browser, in one call.</summary>
public static class PageExtensions
{
    /// <summary>Signs in with the sign-in form of <paramref name="app"/> and waits for the header to show the user.</summary>
    public static async Task SignInAsync(this IPage page, AppInstance app, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(app);
        await page.GotoAsync(app.Url("/SignIn").ToString());
        await page.FillAsync("#UserName", user);
        await page.FillAsync("#Password", password);
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await page.WaitForSelectorAsync("#signed-in-as");
    }

    /// <summary>Adds <paramref name="quantity"/> of a product with the catalogue's form (the page must show the catalogue).</summary>
    public static async Task AddToCartAsync(this IPage page, int productId, int quantity)
    {
        ArgumentNullException.ThrowIfNull(page);
        var row = page.Locator($"tr[data-product-id='{productId}']");
        await row.Locator("input[name=quantity]").FillAsync(quantity.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await row.Locator("button[type=submit]").ClickAsync();
    }
}
