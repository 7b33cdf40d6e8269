using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SessionStore.Tests.Support;
using Xunit.Abstractions;

namespace SessionStore.Tests;

/// <summary>
/// On the in-memory provider, anonymous sessions have their own bound: a flood of them (each POST without a session
/// cookie makes one) evicts anonymous sessions only, never a signed-in user's (<see cref="FloodedShop"/>: both bounds 100).
/// </summary>
public sealed partial class AnonymousFloodTests(FloodedShop shop, ITestOutputHelper output) : IClassFixture<FloodedShop>
{
    private const int FloodPosts = 300;

    [Fact]
    public async Task An_anonymous_flood_does_not_evict_a_signed_in_browser_session()
    {
        var app = shop.App;
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.SignInAsync(app, "alice", "wonderland-42");
        await page.AddToCartAsync(5, 2);
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("2");

        // The flood: one anti-forgery cookie and token, no session cookie, so every add to cart makes a new session.
        using var scout = new ShopClient();
        var home = await scout.GetAsync(app, "/");
        var token = WebUtility.HtmlDecode(AntiforgeryToken().Match(home.Html).Groups[1].Value);
        var antiforgery = Assert.Single(scout.Cookies.GetCookies(app.BaseAddress), c => c.Name == ".SessionStore.Antiforgery");
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        var created = 0;
        await Parallel.ForAsync(0, FloodPosts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, app.Url("/?handler=Add"))
            {
                Content = new FormUrlEncodedContent([new("id", "1"), new("quantity", "1"), new("__RequestVerificationToken", token)]),
            };
            request.Headers.Add("Cookie", $"{antiforgery.Name}={antiforgery.Value}");
            using var response = await client.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            if (response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(".SessionStore.Session=", StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref created);
            }
        });
        Assert.Equal(FloodPosts, created);

        // The signed-in browser still has its session and cart...
        await page.GotoAsync(app.Url("/Cart").ToString());
        Assert.True(await page.Locator("#signed-in-as").CountAsync() == 1, "The anonymous flood signed the browser out (its session was evicted).");
        Assert.Equal("alice", await page.GetAttributeAsync("#signed-in-as", "data-user"));
        Assert.Equal("2", await page.GetAttributeAsync("#cart tr[data-product-id='5']", "data-quantity"));
        await Screenshots.TakeAsync(page, "15-cart-after-anonymous-flood", output);

        // ...because the flood filled the anonymous sessions' own bound (evictions there).
        using var admin = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync(app, "ada", "analytical-engine")).Status);
        using var stats = JsonDocument.Parse((await admin.GetAsync(app, "/stats/data")).Html);
        var anonymous = stats.RootElement.GetProperty("caches").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "distributed@anonymous-sessions");
        Assert.True(anonymous.GetProperty("evictions").GetInt64() >= FloodPosts - 100, anonymous.ToString());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
