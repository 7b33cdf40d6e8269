using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>
/// On Redis the catalogue is served from each instance's near cache (issue 12, item 6): a warm catalogue page sends no
/// product read to Redis, and a price edited on one instance is on the other's next catalogue page.
/// </summary>
[Collection(StoreClusterGroup.Name)]
public sealed partial class NearCacheCatalogueTests(StoreCluster cluster)
{
    /// <summary>The commands a product read can send (the provider's scripts and plain reads); heartbeats (<c>PING</c>) and <c>INFO</c> are not among them.</summary>
    private static readonly string[] ReadCommands = ["evalsha", "eval", "get", "mget", "hget", "hmget", "fcall"];

    [Fact]
    public async Task A_price_edited_on_one_instance_is_on_the_other_instances_next_catalogue_page()
    {
        const int ProductId = 31;
        using var admin = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync(cluster.A, "ada", "analytical-engine")).Status);
        using var visitor = new ShopClient();
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(cluster.B, "/")).Status);

        // Warm: B's catalogue page comes from its own memory, no product read reaches Redis.
        var readsBefore = await ReadCommandsAsync();
        var warm = await visitor.GetAsync(cluster.B, "/");
        Assert.Equal(readsBefore, await ReadCommandsAsync());
        var (name, price, stock) = Row(warm.Html, ProductId);

        for (var edit = 1; edit <= 3; edit++)
        {
            var newPrice = price + edit;
            var response = await admin.EditProductAsync(cluster.A, ProductId, name, newPrice.ToString("0.00", CultureInfo.InvariantCulture), stock);
            Assert.True(response.Status == HttpStatusCode.Redirect, response.ToString());

            var next = await visitor.GetAsync(cluster.B, "/");
            Assert.Equal(newPrice, Row(next.Html, ProductId).Price);

            // And B keeps serving the new price from memory again.
            var reads = await ReadCommandsAsync();
            Assert.Equal(newPrice, Row((await visitor.GetAsync(cluster.B, "/")).Html, ProductId).Price);
            Assert.Equal(reads, await ReadCommandsAsync());
        }
    }

    private async Task<long> ReadCommandsAsync()
    {
        var info = (string?)await cluster.Redis.Raw.GetDatabase().ExecuteAsync("INFO", "commandstats") ?? string.Empty;
        return CommandCalls().Matches(info)
            .Where(m => ReadCommands.Contains(m.Groups[1].Value, StringComparer.Ordinal))
            .Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static (string Name, decimal Price, string Stock) Row(string html, int productId)
    {
        var row = ProductRow().Matches(html).FirstOrDefault(m => m.Groups["id"].Value == productId.ToString(CultureInfo.InvariantCulture))
            ?? throw new InvalidOperationException($"Product {productId} is not on the catalogue page.");
        return (
            WebUtility.HtmlDecode(row.Groups["name"].Value),
            decimal.Parse(WebUtility.HtmlDecode(row.Groups["price"].Value).TrimStart('€').Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture),
            row.Groups["stock"].Value);
    }

    [GeneratedRegex(@"^cmdstat_([a-z|]+):calls=(\d+)", RegexOptions.Multiline)]
    private static partial Regex CommandCalls();

    [GeneratedRegex(@"data-product-id=""(?<id>\d+)"" data-stock=""(?<stock>\d+)"">\s*<td>(?<name>[^<]*)</td>\s*<td class=""num price"">(?<price>[^<]*)</td>")]
    private static partial Regex ProductRow();
}
