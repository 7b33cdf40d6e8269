using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>Session fixation, roles, who sees the statistics, and the headers every page carries.</summary>
[Collection(StoreClusterGroup.Name)]
public sealed partial class SecurityTests(StoreCluster cluster)
{
    [Fact]
    public async Task Sign_in_moves_the_session_to_a_new_key_so_a_planted_session_cookie_sees_nothing_of_the_victim()
    {
        // The attacker gets a session of their own (an anonymous cart) and plants its cookie in the victim's browser.
        using var attacker = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await attacker.AddToCartAsync(cluster.A, 1, 1)).Status);
        var planted = Assert.Single(attacker.Cookies.GetCookies(cluster.A.BaseAddress), c => c.Name == ".SessionStore.Session");
        var victimCookies = new CookieContainer();
        victimCookies.Add(cluster.A.BaseAddress, new Cookie(planted.Name, planted.Value, "/"));
        using var victim = new ShopClient(victimCookies);
        Assert.Equal(new Dictionary<int, int> { [1] = 1 }, await victim.CartAsync(cluster.A));

        // The victim signs in (the anonymous cart comes along) and shops.
        var signIn = await victim.SignInAsync(cluster.A, "alice", "wonderland-42");
        Assert.Equal(HttpStatusCode.Redirect, signIn.Status);
        Assert.Contains(signIn.SetCookies, c => c.StartsWith(".SessionStore.Session=", StringComparison.Ordinal) && !c.Contains(planted.Value, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Redirect, (await victim.AddToCartAsync(cluster.B, 2, 3)).Status);
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 3 }, await victim.CartAsync(cluster.B));

        // The attacker's cookie now finds an empty, anonymous session, on both instances, and cannot change the victim's cart.
        Assert.Empty(await attacker.CartAsync(cluster.B));
        Assert.Null(await attacker.SignedInUserAsync(cluster.A));
        Assert.Equal(HttpStatusCode.Redirect, (await attacker.AddToCartAsync(cluster.A, 5, 1)).Status);
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 3 }, await victim.CartAsync(cluster.A));
        Assert.Equal("alice", await victim.SignedInUserAsync(cluster.B));
    }

    [Fact]
    public async Task Only_an_administrator_edits_the_catalogue_and_sees_the_statistics()
    {
        using var anonymous = new ShopClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(cluster.A, "/stats/data")).Status);
        Assert.Contains("/SignIn?ReturnUrl=", (await anonymous.GetAsync(cluster.A, "/Stats")).Location!.OriginalString, StringComparison.Ordinal);

        using var customer = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await customer.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        var edit = await customer.GetAsync(cluster.A, "/Catalog/Edit/6");
        Assert.Equal(HttpStatusCode.Forbidden, edit.Status);
        Assert.Contains("This page is for the shop&#x27;s administrators.", edit.Html, StringComparison.Ordinal);
        var post = await customer.PostFormAsync(cluster.A, "/", "/Catalog/Edit/6", [new("Name", "Pwned"), new("Price", "0.01"), new("Stock", "0")]);
        Assert.Equal(HttpStatusCode.Forbidden, post.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync(cluster.B, "/stats/data")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync(cluster.B, "/Stats")).Status);
        Assert.DoesNotContain("Pwned", (await customer.GetAsync(cluster.B, "/")).Html, StringComparison.Ordinal);
        Assert.DoesNotContain("/Catalog/Edit/", (await customer.GetAsync(cluster.B, "/")).Html, StringComparison.Ordinal);

        using var admin = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync(cluster.B, "ada", "analytical-engine")).Status);
        var stats = await admin.GetAsync(cluster.A, "/stats/data");
        Assert.Equal(HttpStatusCode.OK, stats.Status);
        using var json = JsonDocument.Parse(stats.Html);
        Assert.Equal("Redis", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(cluster.A, "/Catalog/Edit/6")).Status);
    }

    [Fact]
    public async Task Every_page_carries_a_strict_content_security_policy_and_has_no_inline_script_or_style()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "ada", "analytical-engine")).Status);
        foreach (var path in new[] { "/", "/Cart", "/SignIn", "/About", "/Stats", "/Catalog/Edit/2", "/Checkout", "/no-such-page" })
        {
            using var client = new HttpClient(new HttpClientHandler { CookieContainer = shop.Cookies, AllowAutoRedirect = false });
            using var response = await client.GetAsync(cluster.A.Url(path));
            var html = await response.Content.ReadAsStringAsync();
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
            Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS on plain HTTP"); // HttpsTests checks it under HTTPS
            Assert.DoesNotMatch(InlineScript(), html);
            Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();
}
