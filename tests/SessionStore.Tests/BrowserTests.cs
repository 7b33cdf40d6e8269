using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SessionStore.Tests.Support;
using Xunit.Abstractions;

namespace SessionStore.Tests;

/// <summary>
/// A real browser (headless Chromium) shops on two instances behind one Redis: catalogue, sign-in, cart, checkout, an
/// administrator's edit and statistics, and a Redis stall in the middle of a session. A screenshot of every page is kept.
/// </summary>
[Collection(StoreClusterGroup.Name)]
public sealed class BrowserTests(StoreCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task A_customer_signs_in_fills_the_cart_and_checks_out_and_an_administrator_edits_and_watches_the_statistics()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();

        // The catalogue, signed out: six categories, prices in euros, the sold-out product cannot be added.
        await page.GotoAsync(cluster.A.Url("/").ToString());
        Assert.Equal(6, await page.Locator("table.catalogue").CountAsync());
        Assert.Equal(48, await page.Locator("table.catalogue tbody tr").CountAsync());
        Assert.Matches(new Regex(@"^€\d+\.\d\d$"), (await page.Locator("tr[data-product-id='11'] td.price").TextContentAsync())!.Trim());
        Assert.Equal("Sold out", (await page.Locator("tr[data-product-id='48'] td").Nth(2).TextContentAsync())!.Trim());
        Assert.Equal(0, await page.Locator("tr[data-product-id='48'] form").CountAsync());
        Assert.Equal(0, await page.Locator("a[href^='/Catalog/Edit']").CountAsync());
        var stockBefore = int.Parse((await page.GetAttributeAsync("tr[data-product-id='11']", "data-stock"))!, CultureInfo.InvariantCulture);
        await Screenshots.TakeAsync(page, "01-catalogue", output);

        // Sign in on A.
        await page.GotoAsync(cluster.A.Url("/SignIn").ToString());
        await page.FillAsync("#UserName", "alice");
        await page.FillAsync("#Password", "wonderland-42");
        await Screenshots.TakeAsync(page, "02-sign-in", output);
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await page.WaitForSelectorAsync("#signed-in-as");
        Assert.Equal("alice", await page.GetAttributeAsync("#signed-in-as", "data-user"));

        // Add to the cart; more than the stock of the nearly sold-out product is refused.
        await page.AddToCartAsync(11, 2);
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("2");
        await page.Locator("tr[data-product-id='17'] button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#flash")).ToContainTextAsync("Added 1 ×");
        var lowStock = page.Locator("tr[data-product-id='47']");
        await lowStock.Locator("input[name=quantity]").EvaluateAsync("e => e.removeAttribute('max')");
        await lowStock.Locator("input[name=quantity]").FillAsync("3");
        await lowStock.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#flash-error")).ToContainTextAsync("Only 2 of");
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("3");
        await Screenshots.TakeAsync(page, "03-catalogue-signed-in", output);

        // A customer cannot edit the catalogue.
        var forbidden = await page.GotoAsync(cluster.A.Url("/Catalog/Edit/3").ToString());
        Assert.Equal(403, forbidden!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Not for your account");
        await Screenshots.TakeAsync(page, "04-forbidden", output);

        // The cart, on instance B: the same browser session.
        await page.GotoAsync(cluster.B.Url("/Cart").ToString());
        Assert.Equal("alice", await page.GetAttributeAsync("#signed-in-as", "data-user"));
        Assert.Equal("2", await page.GetAttributeAsync("#cart tr[data-product-id='11']", "data-quantity"));
        Assert.Equal("1", await page.GetAttributeAsync("#cart tr[data-product-id='17']", "data-quantity"));
        Assert.StartsWith("€", (await page.TextContentAsync("#cart-total"))!, StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, "05-cart", output);

        // Check out on B: the order is written through, the stock goes down, the cart is emptied.
        await page.ClickAsync("#checkout-link");
        await page.WaitForSelectorAsync("#place-order-form");
        await Screenshots.TakeAsync(page, "06-checkout", output);
        await page.ClickAsync("#place-order-form button[type=submit]");
        await page.WaitForSelectorAsync("#order-id");
        Assert.Equal("2", await page.GetAttributeAsync("#order tr[data-product-id='11']", "data-quantity"));
        await Assertions.Expect(page.Locator("#flash")).ToContainTextAsync("Thank you!");
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("0");
        await Screenshots.TakeAsync(page, "07-order", output);
        await page.GotoAsync(cluster.A.Url("/").ToString());
        Assert.Equal(stockBefore - 2, int.Parse((await page.GetAttributeAsync("tr[data-product-id='11']", "data-stock"))!, CultureInfo.InvariantCulture));

        // Sign out; the administrator signs in, edits a product and watches the statistics.
        await page.ClickAsync("#sign-out-form button");
        await page.WaitForSelectorAsync("#sign-in-link");
        await page.SignInAsync(cluster.A, "ada", "analytical-engine");
        await page.ClickAsync("tr[data-product-id='25'] a[href='/Catalog/Edit/25']");
        await page.FillAsync("#Price", "47.50");
        await Screenshots.TakeAsync(page, "08-edit", output);
        await page.ClickAsync("#edit-form button[type=submit]");
        await Assertions.Expect(page.Locator("#flash")).ToContainTextAsync("47.50");
        Assert.Equal("€47.50", (await page.Locator("tr[data-product-id='25'] td.price").TextContentAsync())!.Trim());

        await page.GotoAsync(cluster.B.Url("/Stats").ToString());
        await page.WaitForFunctionAsync("() => Number(document.getElementById('chart').dataset.total) > 0");
        Assert.EndsWith("%", (await page.TextContentAsync("#hit-ratio"))!.Trim(), StringComparison.Ordinal);
        Assert.Equal("Redis", await page.TextContentAsync("#provider"));
        await Assertions.Expect(page.Locator("#health-status")).ToHaveTextAsync("Healthy");
        Assert.True(long.Parse((await page.TextContentAsync("#orders"))!, CultureInfo.InvariantCulture) >= 1);
        await Assertions.Expect(page.Locator("#caches")).ToContainTextAsync("Order");
        Assert.Contains("evicted_keys = 0", await page.TextContentAsync("#health"), StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, "09-statistics", output);

        await page.GotoAsync(cluster.B.Url("/About").ToString());
        await Assertions.Expect(page.Locator("#about")).ToContainTextAsync("write-through");
        await Screenshots.TakeAsync(page, "10-about", output);

        var missing = await page.GotoAsync(cluster.B.Url("/no-such-page").ToString());
        Assert.Equal(404, missing!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        await Screenshots.TakeAsync(page, "11-not-found", output);

        Assert.Empty(browser.CspViolations);
    }

    [Fact]
    public async Task A_Redis_stall_neither_signs_the_browser_out_nor_loses_its_cart()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.SignInAsync(cluster.A, "bob", "can-we-fix-it");
        await page.AddToCartAsync(3, 4);
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("4");

        // Redis hangs (SIGSTOP) while the browser adds to the cart on B and opens its cart on A.
        await page.GotoAsync(cluster.B.Url("/").ToString());
        string duringStall;
        await cluster.Redis.PauseAsync();
        try
        {
            await page.Locator("tr[data-product-id='4'] button[type=submit]").ClickAsync();
            await page.WaitForLoadStateAsync();
            duringStall = (await page.Locator("main").TextContentAsync())!;
            await Screenshots.TakeAsync(page, "12-during-redis-stall", output);
            output.WriteLine("During the stall the page said: " + duringStall.Trim());
            await page.GotoAsync(cluster.A.Url("/Cart").ToString());
            var cartDuringStall = (await page.Locator("main").TextContentAsync())!;
            Assert.True(
                cartDuringStall.Contains("Please try again in a moment", StringComparison.Ordinal) || await page.Locator("#signed-in-as").CountAsync() == 1,
                "During the stall the cart page neither said \"try again\" nor showed bob signed in: " + cartDuringStall);
        }
        finally
        {
            await cluster.Redis.ResumeAsync();
        }

        // After the stall: still signed in on both instances, with the cart; the add is there exactly when the page said so.
        foreach (var app in new[] { cluster.A, cluster.B })
        {
            await page.GotoAsync(app.Url("/Cart").ToString());
            Assert.Equal("bob", await page.GetAttributeAsync("#signed-in-as", "data-user"));
            Assert.Equal("4", await page.GetAttributeAsync("#cart tr[data-product-id='3']", "data-quantity"));
            var added = await page.Locator("#cart tr[data-product-id='4']").CountAsync() == 1;
            Assert.True(added == duringStall.Contains("Added 1 ×", StringComparison.Ordinal), $"The page said \"{duringStall.Trim()}\" but the line is {(added ? "" : "not ")}in the cart.");
        }

        await Screenshots.TakeAsync(page, "13-after-redis-stall", output);
    }
}
