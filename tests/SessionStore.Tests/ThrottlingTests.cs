using System.Net;
using Microsoft.Playwright;
using SessionStore.Tests.Support;
using Xunit.Abstractions;

namespace SessionStore.Tests;

/// <summary>Password guessing and anonymous POST floods, on an instance of their own with small limits (<see cref="GuardedShop"/>).</summary>
public sealed class ThrottlingTests(GuardedShop shop, ITestOutputHelper output) : IClassFixture<GuardedShop>
{
    [Fact]
    public async Task Guessing_locks_the_account_then_the_client_with_a_clear_message_and_anonymous_posts_are_rate_limited()
    {
        var app = shop.App;

        // In the browser: three wrong passwords for bob, then the right one is refused too, saying why.
        await using (var browser = await Browser.LaunchAsync())
        {
            var page = await browser.NewPageAsync();
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                await page.GotoAsync(app.Url("/SignIn").ToString());
                await page.FillAsync("#UserName", "bob");
                await page.FillAsync("#Password", $"guess-{attempt}");
                await page.ClickAsync("#sign-in-form button[type=submit]");
                await Assertions.Expect(page.Locator("#sign-in-error")).ToHaveTextAsync("Wrong user name or password.");
            }

            await page.FillAsync("#UserName", "bob");
            await page.FillAsync("#Password", "can-we-fix-it");
            var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#sign-in-form button[type=submit]"), r => r.Request.Method == "POST");
            Assert.Equal(429, refused.Status);
            await Assertions.Expect(page.Locator("#sign-in-error")).ToContainTextAsync("Too many failed sign-ins for this account");
            Assert.Equal(0, await page.Locator("#signed-in-as").CountAsync());
            await Screenshots.TakeAsync(page, "14-sign-in-locked", output);
            Assert.Empty(browser.CspViolations);
        }

        // Another account is not locked by bob's failures.
        using var alice = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await alice.SignInAsync(app, "alice", "wonderland-42")).Status);

        // Five more failures from this address (8 in all, any accounts) block the address, right passwords included.
        using var guesser = new ShopClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.SignInAsync(app, $"user{i}", "123456")).Status);
        }

        using var late = new ShopClient();
        var blocked = await late.SignInAsync(app, "alice", "wonderland-42");
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.Status);
        Assert.Contains("Too many failed sign-ins from your network", blocked.Html, StringComparison.Ordinal);
        Assert.True(int.Parse(blocked.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture) > 0);

        // Anonymous POSTs from this address are rate limited (30 a minute: the sign-ins above count): 429 with a page.
        using var flooder = new ShopClient();
        ShopResponse? limited = null;
        for (var i = 0; i < 80 && limited is null; i++)
        {
            var response = await flooder.AddToCartAsync(app, 1, 1);
            if (response.Status == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        Assert.NotNull(limited);
        Assert.Contains("Too many requests", limited.Html, StringComparison.Ordinal);
        Assert.True(limited.Headers.ContainsKey("Retry-After"));

        // A signed-in customer is not limited by it.
        Assert.Equal(HttpStatusCode.Redirect, (await alice.AddToCartAsync(app, 2, 1)).Status);
        Assert.Equal(new Dictionary<int, int> { [2] = 1 }, await alice.CartAsync(app));
    }
}
