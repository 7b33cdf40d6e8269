using System.Net;
using System.Text;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>Wrong passwords, lost sessions, forged cookies, oversized and forged forms: a clear answer, never a 500, nothing lost.</summary>
[Collection(StoreClusterGroup.Name)]
public sealed class BadInputTests(StoreCluster cluster)
{
    [Fact]
    public async Task A_wrong_password_says_so_and_signs_nobody_in()
    {
        using var shop = new ShopClient();
        var response = await shop.SignInAsync(cluster.A, "alice", "not-her-password");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Contains("Wrong user name or password.", response.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(response.SetCookies, c => c.StartsWith(".SessionStore.SignIn=", StringComparison.Ordinal));
        Assert.Null(await shop.SignedInUserAsync(cluster.A));

        var unknown = await shop.SignInAsync(cluster.B, "mallory", "wonderland-42");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
        Assert.Contains("Wrong user name or password.", unknown.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_session_ends_the_sign_in_and_the_sign_in_page_says_why()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "alice", "wonderland-42")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 5, 1)).Status);

        // What an idle timeout does in Redis: the session entries are gone. (Redis decides expiry with its own
        // clock, so deleting them is the no-sleep way to get there.)
        var keys = cluster.Redis.SessionKeys();
        Assert.NotEmpty(keys);
        await cluster.Redis.Raw.GetDatabase().KeyDeleteAsync([.. keys]);

        var protectedPage = await shop.GetAsync(cluster.B, "/Catalog/Edit/5");
        Assert.Equal(HttpStatusCode.Redirect, protectedPage.Status);
        Assert.Contains("expired=true", protectedPage.Location!.OriginalString, StringComparison.Ordinal);
        var signInPage = await shop.GetAsync(cluster.B, protectedPage.Location.OriginalString);
        Assert.Equal(HttpStatusCode.OK, signInPage.Status);
        Assert.Contains("Your session has expired", signInPage.Html, StringComparison.Ordinal);

        Assert.Null(await shop.SignedInUserAsync(cluster.A));
        Assert.Empty(await shop.CartAsync(cluster.A));
    }

    [Fact]
    public async Task Tampered_cookies_are_treated_as_no_session_not_as_an_error()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 9, 2)).Status);

        var tampered = new CookieContainer();
        foreach (Cookie cookie in shop.Cookies.GetCookies(cluster.A.BaseAddress))
        {
            var value = cookie.Value.ToCharArray();
            var middle = value.Length / 2;
            value[middle] = value[middle] == 'A' ? 'B' : 'A';
            tampered.Add(cluster.A.BaseAddress, new Cookie(cookie.Name, new string(value), cookie.Path));
        }

        using var forger = new ShopClient(tampered);
        var home = await forger.GetAsync(cluster.B, "/");
        Assert.Equal(HttpStatusCode.OK, home.Status);
        Assert.Null(home.SignedInUser);
        Assert.Empty(await forger.CartAsync(cluster.B));

        var garbage = new CookieContainer();
        garbage.Add(cluster.A.BaseAddress, new Cookie(".SessionStore.Session", "not-a-protected-value"));
        garbage.Add(cluster.A.BaseAddress, new Cookie(".SessionStore.SignIn", "%%%"));
        using var stranger = new ShopClient(garbage);
        Assert.Equal(HttpStatusCode.OK, (await stranger.GetAsync(cluster.A, "/Cart")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await stranger.AddToCartAsync(cluster.A, 1, 1)).Status);
        Assert.Equal(new Dictionary<int, int> { [1] = 1 }, await stranger.CartAsync(cluster.A));

        // The real owner is untouched.
        Assert.Equal("bob", await shop.SignedInUserAsync(cluster.B));
        Assert.Equal(new Dictionary<int, int> { [9] = 2 }, await shop.CartAsync(cluster.B));
    }

    [Fact]
    public async Task An_oversized_form_gets_413_with_a_message_and_changes_nothing()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "alice", "wonderland-42")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 4, 1)).Status);
        var padding = new string('x', StoreCluster.MaxFormBytes * 2);

        var withLength = await shop.PostFormAsync(cluster.A, "/", "/?handler=Add", [new("id", "4"), new("quantity", "5"), new("note", padding)]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.Status);
        Assert.Contains("That form is too large", withLength.Html, StringComparison.Ordinal);
        Assert.Contains("Nothing was saved", withLength.Html, StringComparison.Ordinal);

        // Without a Content-Length (chunked), the server cuts the body off at the same limit.
        var page = await shop.GetAsync(cluster.B, "/SignIn");
        var token = System.Text.RegularExpressions.Regex.Match(page.Html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        var body = Encoding.ASCII.GetBytes($"UserName=alice&Password={padding}&__RequestVerificationToken={Uri.EscapeDataString(WebUtility.HtmlDecode(token))}");
        using (var handler = new HttpClientHandler { CookieContainer = shop.Cookies, AllowAutoRedirect = false })
        using (var client = new HttpClient(handler))
        using (var content = new StreamContent(new UnknownLengthStream(body)))
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
            using var chunked = await client.PostAsync(cluster.B.Url("/SignIn"), content);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
            Assert.Contains("That form is too large", await chunked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("alice", await shop.SignedInUserAsync(cluster.B));
        Assert.Equal(new Dictionary<int, int> { [4] = 1 }, await shop.CartAsync(cluster.A));
    }

    [Fact]
    public async Task A_form_without_the_anti_forgery_token_is_refused_with_a_clear_page()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 2, 1)).Status);

        var forged = await shop.PostAsync(cluster.A, "/?handler=Add", [new("id", "2"), new("quantity", "50")]);
        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.Contains("anti-forgery token", forged.Html, StringComparison.Ordinal);
        Assert.Contains("<title>The form could not be accepted · SessionStore</title>", forged.Html, StringComparison.Ordinal);

        var signOut = await shop.PostAsync(cluster.B, "/SignOut", []);
        Assert.Equal(HttpStatusCode.BadRequest, signOut.Status);

        Assert.Equal("bob", await shop.SignedInUserAsync(cluster.A));
        Assert.Equal(new Dictionary<int, int> { [2] = 1 }, await shop.CartAsync(cluster.B));
    }

    [Fact]
    public async Task An_invalid_product_edit_explains_what_is_wrong_and_saves_nothing()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "ada", "analytical-engine")).Status);
        var before = await shop.GetAsync(cluster.B, "/Catalog/Edit/30");

        var response = await shop.PostFormAsync(cluster.A, "/Catalog/Edit/30", "/Catalog/Edit/30",
            [new("Name", ""), new("Price", "1.999"), new("Stock", "-4")]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Contains("Enter a name.", response.Html, StringComparison.Ordinal);
        Assert.Contains("at most two decimals", response.Html, StringComparison.Ordinal);
        Assert.Contains("The stock must be between 0 and 1000000.", response.Html, StringComparison.Ordinal);

        var after = await shop.GetAsync(cluster.B, "/Catalog/Edit/30");
        Assert.Equal(before.Html.Split("<form")[1].Split("__RequestVerificationToken")[0], after.Html.Split("<form")[1].Split("__RequestVerificationToken")[0]);

        using var anonymous = new ShopClient();
        var refused = await anonymous.GetAsync(cluster.A, "/Catalog/Edit/30");
        Assert.Equal(HttpStatusCode.Redirect, refused.Status);
        Assert.StartsWith("/SignIn", refused.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_whose_cart_no_longer_deserializes_is_dropped_once_and_the_user_gets_a_fresh_session()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 8, 2)).Status);

        // What a rolling deploy that changed the cart's format leaves behind: the session is there, its cart is not
        // JSON this version reads. (The cart's JSON is replaced in place by bytes of the same length.)
        var database = cluster.Redis.Raw.GetDatabase();
        var corrupted = 0;
        foreach (var key in cluster.Redis.SessionKeys())
        {
            var value = (byte[]?)await database.StringGetAsync(key);
            var cart = value is null ? -1 : value.AsSpan().IndexOf("{\"8\":2}"u8);
            if (cart >= 0)
            {
                "[\"v2\"]"u8.CopyTo(value.AsSpan(cart));
                Assert.True(await database.StringSetAsync(key, value, null, keepTtl: true));
                corrupted++;
            }
        }

        Assert.Equal(1, corrupted);
        var first = await shop.GetAsync(cluster.B, "/Cart");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("cart-empty", first.Html, StringComparison.Ordinal);
        Assert.Null(first.SignedInUser);
        var second = await shop.GetAsync(cluster.A, "/");
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Null(second.SignedInUser);
        const string Dropped = "it was dropped and the user continues with a fresh session";
        Assert.True(await Wait.UntilAsync(() => Task.FromResult((cluster.A.Output + cluster.B.Output).Contains(Dropped, StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
        Assert.Equal(1, CountOccurrences(cluster.A.Output + cluster.B.Output, Dropped));

        // The fresh session works.
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.B, 8, 1)).Status);
        Assert.Equal(new Dictionary<int, int> { [8] = 1 }, await shop.CartAsync(cluster.A));
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A readable stream that does not tell its length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
