using System.Globalization;
using System.Net.Sockets;
using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// On several memcached nodes a tagged hit of an entry on another node than the tags' reads copies of its tags' versions
/// kept on the entry's node, in one write with the entry (docs/architecture.md, "The tagged hit on several memcached
/// nodes"). An invalidation raises every existing copy on every node before it returns; a missing or pending copy is never
/// trusted (the versions decide) and a missing one is made again.
/// </summary>
public sealed class TagCopyTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private static readonly StoreEntryOptions Minute = new(TimeSpan.FromMinutes(1));
    private static readonly string[] Tags = ["category:5", "shop"];

    [Fact]
    public async Task A_tagged_hit_on_another_node_than_the_tags_is_one_write_to_the_entry_s_node_and_sees_a_later_invalidation()
    {
        await using var warm = await WarmTaggedEntryAsync();
        var entryServer = Server(warm.EntryNode);
        var homeServer = Server(warm.HomeNode);
        Assert.NotEqual(entryServer.Port, homeServer.Port);

        // One hit: the entry's mg and the two copies' mg on the entry's node (one write), nothing on the tags' node.
        var before = (await GetsAsync(entryServer), await GetsAsync(homeServer));
        var hit = await warm.Store.GetAsync(warm.Key, false, default);
        Assert.Equal((CacheLookupStatus.Hit, "page"), (hit.Status, hit.Value.Value));
        var after = (await GetsAsync(entryServer), await GetsAsync(homeServer));
        Assert.Equal((3L, 0L), (after.Item1 - before.Item1, after.Item2 - before.Item2));

        // The copies on the entry's node hold the versions.
        foreach (var tag in Tags)
        {
            Assert.Equal(await warm.VersionAsync(tag), await warm.CopyAsync(tag));
        }

        // Another client invalidates a tag: the copy is raised before that returns, so the next hit is a miss.
        await warm.Other.InvalidateTagAsync("shop", default);
        Assert.Equal(await warm.VersionAsync("shop"), await warm.CopyAsync("shop"));
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);
    }

    [Fact]
    public async Task A_missing_or_pending_copy_is_not_trusted_and_a_missing_one_is_made_again()
    {
        await using var warm = await WarmTaggedEntryAsync();

        // Missing (evicted, expired) when the tag is invalidated: an invalidation raises only the copies that exist, so the
        // hit must ask the versions.
        Assert.Equal(MetaStatus.Stored, (await warm.OnEntryNodeAsync(new MetaCommand("md", warm.Tags.CopyKey("shop"), string.Empty))).Status);
        await warm.Other.InvalidateTagAsync("shop", default);
        Assert.Null(await warm.CopyAsync("shop"));
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);

        // Stored again: its hits make the copy again, with the version's value and no longer life.
        await warm.Store.SetAsync(warm.Key, CacheValue<string>.Of("page 2"), Minute with { Tags = Tags }, default);
        await Poll.UntilAsync(
            async () => (await warm.Store.GetAsync(warm.Key, false, default)).Value.Value == "page 2" && await warm.CopyAsync("shop") == await warm.VersionAsync("shop"),
            "the copy made again with the version's value");
        var copyLife = (await warm.OnEntryNodeAsync(new MetaCommand("mg", warm.Tags.CopyKey("shop"), "t"))).Ttl;
        var versionLife = (await warm.OnHomeNodeAsync(new MetaCommand("mg", warm.Tags.VersionKey("shop"), "t"))).Ttl;
        Assert.True(copyLife > 0 && copyLife <= versionLife, $"the copy lives {copyLife} s, its version {versionLife} s");

        // Pending (a maker's mark, not yet confirmed): an invalidation raises it, keeping its life, and the maker's late
        // confirmation of the value it read before (with the mark's CAS) is refused.
        var before = await warm.VersionAsync("shop");
        var mark = await warm.OnEntryNodeAsync(new MetaCommand("ms", warm.Tags.CopyKey("shop"), "T60 c", "p"u8.ToArray()));
        await warm.Other.InvalidateTagAsync("shop", default);
        var raised = await warm.VersionAsync("shop");
        Assert.Equal(raised, await warm.CopyAsync("shop"));
        var confirm = await warm.OnEntryNodeAsync(new MetaCommand("ms", warm.Tags.CopyKey("shop"), $"T60 C{mark.Cas}", Encoding.ASCII.GetBytes(before!)));
        Assert.Equal(MetaStatus.Exists, confirm.Status);
        Assert.Equal(raised, await warm.CopyAsync("shop"));
        Assert.InRange((await warm.OnEntryNodeAsync(new MetaCommand("mg", warm.Tags.CopyKey("shop"), "t"))).Ttl, 1, 60);
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);

        // A pending copy is not trusted either: here one stands where the invalidated version is (a read must ask the versions).
        await warm.Store.SetAsync(warm.Key, CacheValue<string>.Of("page 3"), Minute with { Tags = Tags }, default);
        Assert.Equal("page 3", (await warm.Store.GetAsync(warm.Key, false, default)).Value.Value);
        await warm.Other.InvalidateTagAsync("shop", default);
        await warm.OnEntryNodeAsync(new MetaCommand("ms", warm.Tags.CopyKey("shop"), "T60", "p"u8.ToArray()));
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);
    }

    [Fact]
    public async Task An_invalidation_raises_the_copies_even_when_the_version_itself_was_evicted()
    {
        await using var warm = await WarmTaggedEntryAsync();

        // The version is gone (evicted under memory pressure) while the copy stays: the invalidation must still reach the copy.
        Assert.Equal(MetaStatus.Stored, (await warm.OnHomeNodeAsync(new MetaCommand("md", warm.Tags.VersionKey("shop"), string.Empty))).Status);
        await warm.Other.InvalidateTagAsync("shop", default);
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);
    }

    [Fact]
    public async Task An_invalidation_raises_the_copy_on_every_node_of_the_server_list()
    {
        await using var warm = await WarmTaggedEntryAsync();
        var copy = warm.Tags.CopyKey("shop");

        // A copy on every node (as hits of entries all over the ring would make), each holding the current version.
        var version = Encoding.ASCII.GetBytes((await warm.VersionAsync("shop"))!);
        foreach (var node in warm.Client.Nodes)
        {
            Assert.Equal(MetaStatus.Stored, (await node.ExecuteAsync([new MetaCommand("ms", copy, "T60", version)], false, default))[0].Status);
        }

        await warm.Other.InvalidateTagAsync("shop", default);
        var raised = await warm.VersionAsync("shop");
        foreach (var node in warm.Client.Nodes)
        {
            var held = (await node.ExecuteAsync([new MetaCommand("mg", copy, "v")], false, default))[0];
            Assert.Equal(raised, Encoding.ASCII.GetString(held.Value!));
        }
    }

    [Fact]
    public async Task An_invalidation_that_cannot_reach_a_node_throws_and_its_replay_raises_that_node_s_copy()
    {
        await using var warm = await WarmTaggedEntryAsync();
        using var invalidator = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => (o.KeyPrefix, o.OperationTimeout) = (warm.Prefix, TimeSpan.FromSeconds(1)))));
        var entryServer = Server(warm.EntryNode);
        var before = await warm.CopyAsync("shop");
        entryServer.Signal("STOP");
        try
        {
            // The version is raised on the tags' node, the entry's node cannot raise its copy: the call must not return as done
            // (the core's tag ledger then keeps the tag and replays it).
            await Assert.ThrowsAnyAsync<MemcachedException>(() => invalidator.InvalidateTagAsync("shop", default).AsTask());
        }
        finally
        {
            entryServer.Signal("CONT");
        }

        Assert.NotEqual(before, await warm.VersionAsync("shop"));
        Assert.Equal(before, await warm.CopyAsync("shop"));

        // The replay (by a client that saw no failure) raises it, and the hit is a miss.
        await warm.Other.InvalidateTagAsync("shop", default);
        Assert.Equal(await warm.VersionAsync("shop"), await warm.CopyAsync("shop"));
        Assert.Equal(CacheLookupStatus.Miss, (await warm.Store.GetAsync(warm.Key, false, default)).Status);
    }

    [Fact]
    public async Task An_invalidation_skips_a_node_this_client_has_dead_and_the_client_empties_it_before_using_it_again()
    {
        await using var warm = await WarmTaggedEntryAsync();
        using var invalidator = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => (o.KeyPrefix, o.OperationTimeout) = (warm.Prefix, TimeSpan.FromMilliseconds(250)))));
        var node = invalidator.Client.Nodes.Single(n => n.Name == warm.EntryNode.Name);
        var store = invalidator.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));
        var before = await warm.CopyAsync("shop");
        var entryServer = Server(warm.EntryNode);
        entryServer.Signal("STOP");
        try
        {
            // The invalidator reads the frozen node's key until it marks the node dead.
            await Poll.UntilAsync(
                async () =>
                {
                    await Assert.ThrowsAnyAsync<MemcachedException>(() => store.GetAsync(warm.Key, false, default).AsTask());
                    return node.IsDead;
                },
                "the invalidator marks the entry's node dead");

            // A node outage does not fail the invalidation: the dead node is skipped, the others' copies are raised.
            await invalidator.InvalidateTagAsync("shop", default);
            Assert.NotEqual(before, await warm.VersionAsync("shop"));
        }
        finally
        {
            entryServer.Signal("CONT");
        }

        // The node kept its old copy (and entry) through the pause; the invalidator empties it before it uses it again.
        await Poll.UntilAsync(() => !node.IsDead, "the invalidator uses the node again");
        Assert.Null(await warm.CopyAsync("shop"));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(warm.Key, false, default)).Status);
    }

    private static async Task<long> GetsAsync(MemcachedProcess server)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("stats\r\n"u8.ToArray());
        var text = new StringBuilder();
        var buffer = new byte[8192];
        while (!text.ToString().EndsWith("END\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, "memcached closed the stats connection");
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var line = text.ToString().Split("\r\n").Single(l => l.StartsWith("STAT cmd_get ", StringComparison.Ordinal));
        return long.Parse(line["STAT cmd_get ".Length..], CultureInfo.InvariantCulture);
    }

    private MemcachedProcess Server(MemcachedNode node) => fixture.Servers.Single(s => s.Port == node.Address.Port);

    /// <summary>
    /// A tagged entry (tags <c>category:5</c>, <c>shop</c>) on another node than the tags' node, read until its hits use the
    /// copies (both made); a second client of the same servers and prefix; a raw client to look at the items.
    /// </summary>
    private async Task<Warm> WarmTaggedEntryAsync()
    {
        fixture.EnsureRunning();
        var prefix = $"copies{Guid.NewGuid():N}:";
        var client = Clients.Create(fixture.Addresses, o => o.KeyPrefix = prefix);
        var home = client.NodeFor("~tags");
        var key = Enumerable.Range(0, 1_000).Select(i => "q" + i.ToString(CultureInfo.InvariantCulture)).First(k => client.NodeFor("Test:" + k) != home);
        var provider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = prefix)));
        var other = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = prefix)));
        var store = provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));
        var warm = new Warm(prefix, client, new MemcachedTags(client, TimeProvider.System), provider, other, store, key, client.NodeFor("Test:" + key), home);
        await store.SetAsync(key, CacheValue<string>.Of("page"), Minute with { Tags = Tags }, default);
        await Poll.UntilAsync(
            async () =>
            {
                Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);
                return long.TryParse(await warm.CopyAsync("category:5"), out _) && long.TryParse(await warm.CopyAsync("shop"), out _);
            },
            "the entry's copies made by its hits");
        return warm;
    }

    private sealed record Warm(
        string Prefix,
        MemcachedClient Client,
        MemcachedTags Tags,
        MemcachedCacheProvider Provider,
        MemcachedCacheProvider Other,
        ICacheStore<string, string> Store,
        string Key,
        MemcachedNode EntryNode,
        MemcachedNode HomeNode) : IAsyncDisposable
    {
        public async Task<MetaResponse> OnEntryNodeAsync(MetaCommand command) => (await EntryNode.ExecuteAsync([command], false, default))[0];

        public async Task<MetaResponse> OnHomeNodeAsync(MetaCommand command) => (await HomeNode.ExecuteAsync([command], false, default))[0];

        /// <summary>The copy of <paramref name="tag"/>'s version on the entry's node (<see langword="null"/>: none).</summary>
        public async Task<string?> CopyAsync(string tag) => Text(await OnEntryNodeAsync(new MetaCommand("mg", Tags.CopyKey(tag), "v")));

        public async Task<string?> VersionAsync(string tag) => Text(await OnHomeNodeAsync(new MetaCommand("mg", Tags.VersionKey(tag), "v")));

        public ValueTask DisposeAsync()
        {
            Provider.Dispose();
            Other.Dispose();
            Client.Dispose();
            return ValueTask.CompletedTask;
        }

        private static string? Text(MetaResponse reply) => reply.Status == MetaStatus.Value ? Encoding.ASCII.GetString(reply.Value!) : null;
    }
}
