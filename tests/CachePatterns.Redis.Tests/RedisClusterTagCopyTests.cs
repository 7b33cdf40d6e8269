using CachePatterns.Providers;
using CachePatterns.Redis.Internal;
using CachePatterns.Redis.Tests.Support;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// On a Cluster a tagged hit reads copies of its tags' versions kept in the entry's slot bucket, so the entry's <c>GET</c> and
/// the copies' <c>MGET</c> go to one node (docs/architecture.md, "The tagged hit on a Cluster"). An invalidation raises every
/// existing copy before it returns; a missing or pending copy is never trusted (the versions decide) and is made again.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterTagCopyTests(RedisCluster cluster)
{
    private static readonly StoreEntryOptions Minute = new(TimeSpan.FromMinutes(1));

    [Fact]
    public async Task A_tagged_hit_reads_the_copies_of_its_versions_on_the_entry_s_node_not_on_the_versions_node()
    {
        var (instance, store, other, key) = await WarmTaggedEntryAsync(sameNodeAsVersions: false);
        using var _ = other;
        var entryNode = cluster.Raw.GetServer(ValueKey(instance, key));
        var versionsNode = cluster.Raw.GetServer(VersionKey(instance, "shop"));
        Assert.NotEqual(entryNode.EndPoint, versionsNode.EndPoint);

        // Asked again until one hit shows exactly that: another client of the Cluster would blur one count.
        await Wait.UntilAsync(
            async () =>
            {
                var before = (await CallsAsync(entryNode, "mget"), await CallsAsync(versionsNode, "mget"), await ScriptsAsync());
                var hit = await store.GetAsync(key, false, default);
                Assert.Equal((CacheLookupStatus.Hit, "page"), (hit.Status, hit.Value.Value));
                var after = (await CallsAsync(entryNode, "mget"), await CallsAsync(versionsNode, "mget"), await ScriptsAsync());
                return (after.Item1 - before.Item1, after.Item2 - before.Item2, after.Item3 - before.Item3) == (1, 0, 0);
            },
            TimeSpan.FromSeconds(30),
            "a tagged hit whose MGET runs on the entry's node only, without a script");

        // The copies sit in the entry's bucket and hold the versions.
        foreach (var tag in new[] { "category:5", "shop" })
        {
            Assert.Equal(await cluster.Database.StringGetAsync(VersionKey(instance, tag)), await cluster.Database.StringGetAsync(CopyKey(instance, key, tag)));
        }

        // Another client invalidates a tag: the copy is raised before that returns, so the next hit is a miss.
        await other.InvalidateTagAsync("shop", default);
        Assert.Equal(await cluster.Database.StringGetAsync(VersionKey(instance, "shop")), await cluster.Database.StringGetAsync(CopyKey(instance, key, "shop")));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);
    }

    [Fact]
    public async Task A_missing_or_pending_copy_is_not_trusted_and_a_missing_one_is_made_again()
    {
        var (instance, store, other, key) = await WarmTaggedEntryAsync(sameNodeAsVersions: true);
        using var _ = other;
        var copy = CopyKey(instance, key, "shop");
        var version = VersionKey(instance, "shop");

        // Missing (evicted, expired) when the tag is invalidated: an invalidation raises only the copies that exist, so the
        // hit must ask the versions.
        Assert.True(await cluster.Database.KeyDeleteAsync(copy));
        await other.InvalidateTagAsync("shop", default);
        Assert.False((await cluster.Database.StringGetAsync(copy)).HasValue);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);

        // Stored again: its hits make the copy again, with the version's value and no longer life.
        await store.SetAsync(key, CacheValue<string>.Of("page 2"), Minute with { Tags = ["category:5", "shop"] }, default);
        await Wait.UntilAsync(
            async () => (await store.GetAsync(key, false, default)).Value.Value == "page 2" && await cluster.Database.StringGetAsync(copy) == await cluster.Database.StringGetAsync(version),
            TimeSpan.FromSeconds(30),
            "the copy made again with the version's value");
        var copyLife = await cluster.Database.KeyTimeToLiveAsync(copy);
        var versionLife = await cluster.Database.KeyTimeToLiveAsync(version);
        Assert.True(copyLife is { } life && versionLife is { } limit && life <= limit + TimeSpan.FromSeconds(1), $"the copy lives {copyLife}, its version {versionLife}");

        // Pending (a maker's mark, not yet confirmed): an invalidation raises it, and the maker's late confirmation of the
        // value it read before is refused.
        var before = await cluster.Database.StringGetAsync(version);
        await cluster.Database.StringSetAsync(copy, "p42", TimeSpan.FromMinutes(1));
        await other.InvalidateTagAsync("shop", default);
        var raised = await cluster.Database.StringGetAsync(version);
        Assert.Equal(raised, await cluster.Database.StringGetAsync(copy));
        Assert.Equal(0, (int)await cluster.Database.ScriptEvaluateAsync(RedisTags.ConfirmCopyScript, [copy], ["p42", before, 60_000]));
        Assert.Equal(raised, await cluster.Database.StringGetAsync(copy));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);

        // A pending copy is not trusted either: here one stands where the invalidated version is (a read must ask the versions).
        await store.SetAsync(key, CacheValue<string>.Of("page 3"), Minute with { Tags = ["category:5", "shop"] }, default);
        Assert.Equal("page 3", (await store.GetAsync(key, false, default)).Value.Value);
        await other.InvalidateTagAsync("shop", default);
        await cluster.Database.StringSetAsync(copy, "p43", TimeSpan.FromMinutes(1));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);
    }

    [Fact]
    public async Task An_invalidation_raises_the_copies_even_when_the_version_itself_was_evicted()
    {
        var (instance, store, other, key) = await WarmTaggedEntryAsync(sameNodeAsVersions: false);
        using var _ = other;

        // The version is gone (evicted under memory pressure) while the copy stays: the invalidation must still reach the copy.
        Assert.True(await cluster.Database.KeyDeleteAsync(VersionKey(instance, "shop")));
        await other.InvalidateTagAsync("shop", default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);
    }

    [Fact]
    public async Task A_near_cache_hears_a_tag_invalidation_only_after_every_copy_is_raised()
    {
        var instance = cluster.NewInstanceName();
        using var provider = cluster.CreateProvider(instanceName: instance);
        var tags = new RedisTags(instance);
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute with { Tags = ["shop"] }, default);
        var versionKey = VersionKey(instance, "shop");
        var version = await cluster.Database.StringGetAsync(versionKey);

        // A copy in every bucket (as hits on entries all over the Cluster would make), each holding the current version.
        var copies = Enumerable.Range(0, 16_384 / 256).Select(bucket => Enumerable.Range(0, 10_000).Select(i => (RedisKey)("x" + i))
            .First(key => cluster.Raw.HashSlot(key) / 256 == bucket)).Select(key => tags.CopyKeys(cluster.Raw, key, ["shop"])[0]).ToArray();
        Assert.Equal(RedisTags.CopyBuckets, copies.Distinct().Count());
        await Task.WhenAll(copies.Select(copy => cluster.Database.StringSetAsync(copy, version, TimeSpan.FromMinutes(1))));

        var channel = RedisChannel.Literal("cachepatterns:invalidations:" + instance);
        var messages = await cluster.Raw.GetSubscriber().SubscribeAsync(channel);
        var listening = cluster.Raw.GetSubscriber().SubscribedEndpoint(channel);
        var versionsNode = cluster.Raw.GetServer(versionKey).EndPoint;
        var hung = cluster.Nodes.First(n => !Same(n, versionsNode) && !Same(n, listening));
        Assert.Contains(copies, copy => Same(hung, cluster.Raw.GetServer(copy).EndPoint));
        Task invalidation;
        var heard = TagMessageAsync(messages);
        hung.Pause();
        try
        {
            // The version's node answers and raises it; the copies on the frozen node wait. A message sent now would let a
            // near cache read those copies unraised and keep the old entry: none may come until they are raised.
            invalidation = provider.InvalidateTagAsync("shop", default).AsTask();
            await Wait.UntilAsync(async () => await cluster.Database.StringGetAsync(versionKey) != version, TimeSpan.FromSeconds(30), "the version raised");
            await Assert.ThrowsAsync<TimeoutException>(() => heard.WaitAsync(TimeSpan.FromSeconds(1)));
        }
        finally
        {
            hung.Resume();
        }

        await invalidation;
        Assert.EndsWith("|shop", await heard.WaitAsync(TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
        var raised = await cluster.Database.StringGetAsync(versionKey);
        Assert.All(await Task.WhenAll(copies.Select(copy => cluster.Database.StringGetAsync(copy))), copy => Assert.Equal(raised, copy));
        await messages.UnsubscribeAsync();
    }

    /// <summary>The first tag invalidation heard on the channel (a client's own probes, kind <c>p</c>, share it).</summary>
    private static async Task<string> TagMessageAsync(ChannelMessageQueue messages)
    {
        while (true)
        {
            var message = (string)(await messages.ReadAsync()).Message!;
            if (message.Contains("|t|", StringComparison.Ordinal))
            {
                return message;
            }
        }
    }

    private static bool Same(RedisServer node, System.Net.EndPoint? endpoint) =>
        endpoint is System.Net.IPEndPoint ip ? ip.Port == node.Port : endpoint?.ToString()?.EndsWith(":" + node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) == true;

    /// <summary>
    /// A tagged entry (tags <c>category:5</c>, <c>shop</c>) on a node chosen relative to the versions' node, read until its
    /// hits use the copies (no script, both copies made); and a second client of the same instance.
    /// </summary>
    private async Task<(string Instance, ICacheStore<string, string> Store, RedisCacheProvider Other, string Key)> WarmTaggedEntryAsync(bool sameNodeAsVersions)
    {
        var instance = cluster.NewInstanceName();
        var versionsNode = cluster.Raw.GetServer(VersionKey(instance, "shop")).EndPoint;
        var key = Enumerable.Range(0, 1_000).Select(i => "q" + i).First(k =>
            cluster.Raw.GetServer(ValueKey(instance, k)).EndPoint.Equals(versionsNode) == sameNodeAsVersions
            && cluster.Raw.GetServer(CopyKey(instance, k, "shop")).EndPoint.Equals(cluster.Raw.GetServer(ValueKey(instance, k)).EndPoint));
        var provider = cluster.CreateProvider(instanceName: instance);
        var other = cluster.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync(key, CacheValue<string>.Of("page"), Minute with { Tags = ["category:5", "shop"] }, default);
        await Wait.UntilAsync(
            async () =>
            {
                Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);
                return await cluster.Database.StringGetAsync(CopyKey(instance, key, "category:5")) is { IsNull: false } one && one.TryParse(out long _)
                    && await cluster.Database.StringGetAsync(CopyKey(instance, key, "shop")) is { IsNull: false } two && two.TryParse(out long _);
            },
            TimeSpan.FromSeconds(30),
            "the entry's copies made by its hits");
        return (instance, store, other, key);
    }

    private static RedisKey ValueKey(string instance, string key) => "{" + instance + "P:" + key + "}";

    private static RedisKey VersionKey(string instance, string tag) => new RedisTags(instance).VersionKeyPrefix + tag;

    private RedisKey CopyKey(string instance, string key, string tag) => new RedisTags(instance).CopyKeys(cluster.Raw, ValueKey(instance, key), [tag])[0];

    private async Task<long> ScriptsAsync()
    {
        long calls = 0;
        foreach (var endpoint in cluster.Raw.GetEndPoints())
        {
            var server = cluster.Raw.GetServer(endpoint);
            calls += await CallsAsync(server, "evalsha") + await CallsAsync(server, "eval");
        }

        return calls;
    }

    private static async Task<long> CallsAsync(IServer server, string command)
    {
        var line = (await server.InfoRawAsync("commandstats"))?.Split('\n').FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(':', ',')[1]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
