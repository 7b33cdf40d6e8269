using System.Globalization;
using Microsoft.Playwright;
using SessionStore.Tests.Support;
using Xunit.Abstractions;

namespace SessionStore.Tests;

/// <summary>A real browser signs in, fills the cart and watches the statistics page; a screenshot of each page is kept.</summary>
[Collection(StoreClusterGroup.Name)]
public sealed class BrowserTests(StoreCluster cluster, ITestOutputHelper output)
{
    private static readonly string ScreenshotDirectory = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");

    [Fact]
    public async Task Sign_in_cart_and_statistics_work_in_headless_Chromium()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();

        // Sign in on instance A.
        await page.GotoAsync(cluster.A.Url("/SignIn").ToString());
        await page.FillAsync("#UserName", "alice");
        await page.FillAsync("#Password", "wonderland-42");
        await ScreenshotAsync(page, "1-sign-in");
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await page.WaitForSelectorAsync("#signed-in-as");
        Assert.Equal("alice", await page.GetAttributeAsync("#signed-in-as", "data-user"));
        Assert.Equal(48, await page.Locator("#catalogue tbody tr").CountAsync());

        // Add two products to the cart with the catalogue's forms.
        var lantern = page.Locator("#catalogue tr[data-product-id='11']");
        await lantern.Locator("input[name=quantity]").FillAsync("3");
        await lantern.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("3");
        await page.Locator("#catalogue tr[data-product-id='17'] button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("4");
        await Assertions.Expect(page.Locator("#flash")).ToContainTextAsync("Added 1 ×");
        await ScreenshotAsync(page, "2-catalogue");

        // The cart, seen on instance B: the same browser session.
        await page.GotoAsync(cluster.B.Url("/Cart").ToString());
        Assert.Equal("alice", await page.GetAttributeAsync("#signed-in-as", "data-user"));
        Assert.Equal("3", await page.GetAttributeAsync("#cart tr[data-product-id='11']", "data-quantity"));
        Assert.Equal("1", await page.GetAttributeAsync("#cart tr[data-product-id='17']", "data-quantity"));
        await ScreenshotAsync(page, "3-cart");

        // The statistics page of A draws what the requests above did.
        await page.GotoAsync(cluster.A.Url("/Stats").ToString());
        await page.WaitForFunctionAsync("() => Number(document.getElementById('chart').dataset.total) > 0");
        var ratio = await page.TextContentAsync("#hit-ratio");
        Assert.EndsWith("%", ratio!.Trim(), StringComparison.Ordinal);
        Assert.True(long.Parse((await page.TextContentAsync("#hits"))!, CultureInfo.InvariantCulture) > 0);
        Assert.Equal("Redis", await page.TextContentAsync("#provider"));
        Assert.Equal("Healthy", await page.TextContentAsync("#health-status"));
        Assert.True(await page.Locator("#health tbody tr").CountAsync() >= 2);
        Assert.Contains("evicted_keys = 0", await page.TextContentAsync("#health"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "4-statistics");

        // Sign out with the header's form.
        await page.ClickAsync("#sign-out-form button");
        await page.WaitForSelectorAsync("#sign-in-link");
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("0");
    }

    private async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 1000, $"The screenshot {path} is empty.");
        output.WriteLine($"screenshot: {path}");
    }
}
