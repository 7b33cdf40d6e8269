using System.Net;
using System.Text.RegularExpressions;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>Placing an order: stock taken once, the order readable on every instance, a second submit shows the same order.</summary>
[Collection(StoreClusterGroup.Name)]
public sealed partial class CheckoutTests(StoreCluster cluster)
{
    [Fact]
    public async Task An_order_is_placed_once_takes_the_stock_once_and_a_second_submit_shows_the_same_order()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it")).Status);
        var stockBefore = await StockAsync(shop, cluster.B, 33);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 33, 3)).Status);

        var checkout = await shop.GetAsync(cluster.A, "/Checkout");
        Assert.Equal(HttpStatusCode.OK, checkout.Status);
        var orderId = OrderIdField().Match(checkout.Html).Groups[1].Value;
        var token = WebUtility.HtmlDecode(AntiforgeryToken().Match(checkout.Html).Groups[1].Value);
        KeyValuePair<string, string>[] form = [new("OrderId", orderId), new("__RequestVerificationToken", token)];

        var placed = await shop.PostAsync(cluster.A, "/Checkout", form);
        Assert.Equal(HttpStatusCode.Redirect, placed.Status);
        Assert.EndsWith($"/Order/{orderId}", placed.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(await shop.CartAsync(cluster.B));

        // The same form again (a double click, a retry): the same order, no second one, stock taken once.
        var again = await shop.PostAsync(cluster.B, "/Checkout", form);
        Assert.Equal(HttpStatusCode.Redirect, again.Status);
        Assert.EndsWith($"/Order/{orderId}", again.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(stockBefore - 3, await StockAsync(shop, cluster.A, 33));
        Assert.Equal(stockBefore - 3, await StockAsync(shop, cluster.B, 33));

        var order = await shop.GetAsync(cluster.B, $"/Order/{orderId}");
        Assert.Equal(HttpStatusCode.OK, order.Status);
        Assert.Contains("data-product-id=\"33\" data-quantity=\"3\"", order.Html, StringComparison.Ordinal);

        // Another customer cannot see it.
        using var other = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await other.SignInAsync(cluster.B, "alice", "wonderland-42")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(cluster.A, $"/Order/{orderId}")).Status);
    }

    private static async Task<int> StockAsync(ShopClient shop, AppInstance app, int productId)
    {
        var page = await shop.GetAsync(app, "/");
        var match = Regex.Match(page.Html, $"data-product-id=\"{productId}\" data-stock=\"(\\d+)\"");
        Assert.True(match.Success, $"No product {productId} on the catalogue.");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("name=\"OrderId\" value=\"([^\"]+)\"")]
    private static partial Regex OrderIdField();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
