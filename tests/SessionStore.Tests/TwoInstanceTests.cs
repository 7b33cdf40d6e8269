using System.Net;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>Two app processes behind one cookie jar, sharing Redis, the key ring and the database.</summary>
[Collection(StoreClusterGroup.Name)]
public sealed class TwoInstanceTests(StoreCluster cluster)
{
    [Fact]
    public async Task Sign_in_on_one_instance_is_seen_on_the_other_with_the_same_cart()
    {
        using var shop = new ShopClient();
        var signIn = await shop.SignInAsync(cluster.A, "alice", "wonderland-42");
        Assert.True(signIn.Status == HttpStatusCode.Redirect, signIn.ToString());
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 7, 2)).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 12, 1)).Status);

        Assert.Equal("alice", await shop.SignedInUserAsync(cluster.B));
        Assert.Equal(new Dictionary<int, int> { [7] = 2, [12] = 1 }, await shop.CartAsync(cluster.B));

        // And back: what B adds, A shows.
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.B, 7, 3)).Status);
        Assert.Equal(new Dictionary<int, int> { [7] = 5, [12] = 1 }, await shop.CartAsync(cluster.A));
    }

    [Fact]
    public async Task Sign_out_on_the_second_instance_signs_out_the_first_even_with_a_copy_of_the_old_cookies()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 3, 4)).Status);
        Assert.Equal("bob", await shop.SignedInUserAsync(cluster.B));
        var sessionsBefore = cluster.Redis.SessionKeys().Count;
        using var stolen = new ShopClient(shop.CopyCookies(cluster.A));
        Assert.Equal("bob", await stolen.SignedInUserAsync(cluster.A));

        var signOut = await shop.SignOutAsync(cluster.B);
        Assert.Equal(HttpStatusCode.Redirect, signOut.Status);
        Assert.Contains(signOut.SetCookies, c => c.StartsWith(".SessionStore.Session=;", StringComparison.Ordinal));

        Assert.Null(await shop.SignedInUserAsync(cluster.A));
        Assert.Empty(await shop.CartAsync(cluster.A));

        // The old cookies, replayed on the first instance, find no session: the sign-out removed it from Redis.
        Assert.Null(await stolen.SignedInUserAsync(cluster.A));
        Assert.Empty(await stolen.CartAsync(cluster.A));
        Assert.True(cluster.Redis.SessionKeys().Count < sessionsBefore, "The signed-out session is still in Redis.");
    }

    [Fact]
    public async Task A_product_edited_on_one_instance_is_read_by_the_other_from_the_shared_cache()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "ada", "analytical-engine")).Status);
        var before = await shop.GetAsync(cluster.B, "/");
        Assert.Contains("data-product-id=\"20\"", before.Html, StringComparison.Ordinal);

        var edit = await shop.EditProductAsync(cluster.A, 20, "Bypass pruning shears", "12.34", "7");
        Assert.True(edit.Status == HttpStatusCode.Redirect, edit.ToString());

        // Write-through: the new value is in Redis already, before anyone reads it.
        var cached = (byte[]?)await cluster.Redis.Raw.GetDatabase().StringGetAsync("{sessionstore:Product:20}");
        Assert.NotNull(cached);
        Assert.Contains("Bypass pruning shears", System.Text.Encoding.UTF8.GetString(cached), StringComparison.Ordinal);

        var after = await shop.GetAsync(cluster.B, "/Catalog/Edit/20");
        Assert.Contains("value=\"Bypass pruning shears\"", after.Html, StringComparison.Ordinal);
        Assert.Contains("value=\"12.34\"", after.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_and_sign_in_cookies_are_http_only_and_same_site()
    {
        using var shop = new ShopClient();
        var signIn = await shop.SignInAsync(cluster.A, "alice", "wonderland-42");
        Assert.Equal(HttpStatusCode.Redirect, signIn.Status);
        var session = Assert.Single(signIn.SetCookies, c => c.StartsWith(".SessionStore.Session=", StringComparison.Ordinal));
        var auth = Assert.Single(signIn.SetCookies, c => c.StartsWith(".SessionStore.SignIn=", StringComparison.Ordinal));
        foreach (var cookie in new[] { session, auth })
        {
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("httponly", attributes);
            Assert.Contains("samesite=lax", attributes);
            Assert.DoesNotContain("secure", attributes); // plain HTTP here; HttpsTests checks Secure under HTTPS
            Assert.DoesNotContain(attributes, a => a.StartsWith("expires=", StringComparison.Ordinal)); // gone when the browser closes
        }
    }

    [Fact]
    public async Task A_session_lives_in_Redis_for_the_idle_timeout_and_every_request_renews_it()
    {
        using var shop = new ShopClient();
        var before = cluster.Redis.SessionKeys().ToHashSet();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "alice", "wonderland-42")).Status);
        var key = Assert.Single(cluster.Redis.SessionKeys(), k => !before.Contains(k));
        var database = cluster.Redis.Raw.GetDatabase();
        var ttl = await database.KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromTicks(1), StoreCluster.IdleTimeout);

        // Pretend most of the idle time has passed. A health probe with the user's cookies is not activity...
        await database.KeyExpireAsync(key, TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync(cluster.A, "/healthz")).Status);
        Assert.InRange((await database.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30));

        // ...coming back to a page, on the other instance, is: the session slides.
        Assert.Equal("alice", await shop.SignedInUserAsync(cluster.B));
        Assert.InRange((await database.KeyTimeToLiveAsync(key))!.Value, StoreCluster.IdleTimeout - TimeSpan.FromMinutes(2), StoreCluster.IdleTimeout);
    }
}
