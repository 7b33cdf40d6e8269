using System.Globalization;
using System.Net;
using System.Text.Json;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>
/// Two app processes on PostgreSQL with replicas (through the library's read/write router) and one Redis. Which server ran
/// the reads is asked of the servers themselves (their own table statistics).
/// </summary>
[Collection(PgStoreClusterGroup.Name)]
public sealed class PostgresReplicaTests(PgStoreCluster cluster)
{
    private static readonly TimeSpan StatisticsTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sign_in_on_one_instance_is_seen_on_the_other_and_the_reads_ran_on_the_replicas()
    {
        var promptBefore = await PgStoreCluster.TableReadsAsync(cluster.PromptReplica);
        var delayedBefore = await PgStoreCluster.TableReadsAsync(cluster.DelayedReplica);
        using var shop = new ShopClient();

        var signIn = await shop.SignInAsync(cluster.A, "bob", "can-we-fix-it");
        Assert.True(signIn.Status == HttpStatusCode.Redirect, signIn.ToString());
        var home = await shop.GetAsync(cluster.A, "/");
        Assert.True(home.Status == HttpStatusCode.OK, home + cluster.A.Output);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(cluster.A, 5, 3)).Status);
        Assert.Equal("bob", await shop.SignedInUserAsync(cluster.B));
        Assert.Equal(new Dictionary<int, int> { [5] = 3 }, await shop.CartAsync(cluster.B));
        Assert.Equal("bob", await shop.SignedInUserAsync(cluster.A));

        // A reads only through the delayed replica, B only through the prompt one: each replica counted its instance's
        // reads (the user lookup at sign-in, the catalogue's id list). Statistics reach the view within a second or so.
        long promptAfter = 0, delayedAfter = 0;
        var served = await Wait.UntilAsync(async () =>
        {
            promptAfter = await PgStoreCluster.TableReadsAsync(cluster.PromptReplica);
            delayedAfter = await PgStoreCluster.TableReadsAsync(cluster.DelayedReplica);
            return promptAfter > promptBefore && delayedAfter > delayedBefore;
        }, StatisticsTimeout);
        Assert.True(served, $"Reads on the replicas: prompt {promptBefore} → {promptAfter} (instance B), delayed {delayedBefore} → {delayedAfter} (instance A).");
    }

    [Fact]
    public async Task An_edit_is_read_back_at_once_on_the_editing_instance_despite_the_delayed_replica_and_on_the_other()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.A, "ada", "analytical-engine")).Status);
        var before = await shop.GetAsync(cluster.A, "/Catalog/Edit/20");
        Assert.DoesNotContain("Anvil pruning shears", before.Html, StringComparison.Ordinal);

        var edit = await shop.EditProductAsync(cluster.A, 20, "Anvil pruning shears", "23.45", "9");
        Assert.True(edit.Status == HttpStatusCode.Redirect, edit.ToString());

        // The confirmation was read back from the database in the editing request. A's only replica replays 4 s late
        // and is readable; the request's read-your-writes scope sent that read to the primary.
        var next = await shop.GetAsync(cluster.A, "/");
        Assert.Contains("Saved Anvil pruning shears: 23.45, 9 in stock.", next.Html, StringComparison.Ordinal);

        // The other instance reads the edit from the shared cache (write-through).
        var onB = await shop.GetAsync(cluster.B, "/Catalog/Edit/20");
        Assert.Contains("value=\"Anvil pruning shears\"", onB.Html, StringComparison.Ordinal);
        Assert.Contains("value=\"23.45\"", onB.Html, StringComparison.Ordinal);

        // With the entry gone from the cache, A's fill must not take the old row from the lagging replica: the router's
        // fill-aware routing sends it to a server that has this process's write.
        Assert.True(await cluster.Redis.Raw.GetDatabase().KeyDeleteAsync("{sessionstore:Product:20}"), "The product was not in Redis.");
        var refilled = await shop.GetAsync(cluster.A, "/Catalog/Edit/20");
        Assert.Contains("value=\"Anvil pruning shears\"", refilled.Html, StringComparison.Ordinal);
        Assert.Contains("value=\"9\"", refilled.Html, StringComparison.Ordinal);

        Assert.Equal(2345L, await cluster.Primary.ScalarAsync<long>("SELECT price_cents FROM products WHERE id = 20"));
    }

    [Fact]
    public async Task The_statistics_show_each_database_server_with_its_role()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(cluster.B, "ada", "analytical-engine")).Status);
        var stats = await shop.GetAsync(cluster.B, "/stats/data");
        using var json = JsonDocument.Parse(stats.Html);
        Assert.StartsWith("PostgreSQL via the read/write router (2 servers)", json.RootElement.GetProperty("database").GetString(), StringComparison.Ordinal);
        var database = json.RootElement.GetProperty("health").GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "database");
        Assert.Equal("Healthy", database.GetProperty("status").GetString());
        var servers = database.GetProperty("data");
        Assert.Equal("writer", servers.GetProperty(Endpoint(cluster.Primary)).GetString());
        Assert.StartsWith("replica, takes reads, lag ", servers.GetProperty(Endpoint(cluster.PromptReplica)).GetString(), StringComparison.Ordinal);
    }

    private static string Endpoint(CachePatterns.Routing.Tests.Support.PgNode node) => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{node.Port}");
}
