using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// The memcached store beyond the shared contract (<see cref="MemcachedProviderContractTests"/>): two provider instances,
/// refresh claims, sliding renewal, corruption, multi-node, limits and dead nodes, against three real memcached processes.
/// </summary>
public sealed class MemcachedStoreTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private static readonly StoreEntryOptions FiveMinutes = new(TimeSpan.FromMinutes(5));

    private MemcachedCacheProvider CreateProvider(TimeProvider? time = null, Action<MemcachedCacheProviderOptions>? configure = null) =>
        new(Options.Create(Clients.Options(fixture.Addresses, configure)), time);

    private static ICacheStore<string, string> Store(MemcachedCacheProvider provider, RecordingObserver? observer = null) =>
        provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()) { Observer = observer });

    private static string NewKey() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_tagged_hit_of_a_remembered_key_sees_a_later_invalidation_by_another_client()
    {
        using var provider = CreateProvider();
        using var other = CreateProvider();
        var store = Store(provider);
        var (key, tag) = (NewKey(), NewKey());
        await store.SetAsync(key, CacheValue<string>.Of("page"), FiveMinutes with { Tags = [tag, "shop"] }, default);

        // The first hit learns the entry's tags; the second reads the entry and the versions together.
        Assert.Equal("page", (await store.GetAsync(key, false, default)).Value.Value);
        Assert.Equal("page", (await store.GetAsync(key, false, default)).Value.Value);

        await other.InvalidateTagAsync(tag, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);

        // It was deleted: a lease read finds no entry and is granted the lease.
        var lease = await store.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Miss, lease.Status);
        Assert.True(lease.Lease.IsGranted);
    }

    [Fact]
    public async Task A_tagged_hit_checks_the_tags_the_entry_carries_when_another_client_rewrote_it_with_other_tags()
    {
        using var provider = CreateProvider();
        using var other = CreateProvider();
        var store = Store(provider);
        var otherStore = Store(other);
        var (x, y) = (NewKey(), NewKey());
        var (a, b, c, d) = (NewKey(), NewKey(), NewKey(), NewKey());
        await store.SetAsync(x, CacheValue<string>.Of("x1"), FiveMinutes with { Tags = [a] }, default);
        await store.SetAsync(y, CacheValue<string>.Of("y1"), FiveMinutes with { Tags = [c] }, default);
        Assert.Equal("x1", (await store.GetAsync(x, false, default)).Value.Value);
        Assert.Equal("y1", (await store.GetAsync(y, false, default)).Value.Value);

        // This client remembers x: [a] and y: [c]; the other rewrites them with [b] and [d].
        await otherStore.SetAsync(x, CacheValue<string>.Of("x2"), FiveMinutes with { Tags = [b] }, default);
        await otherStore.SetAsync(y, CacheValue<string>.Of("y2"), FiveMinutes with { Tags = [d] }, default);

        // x's real tag is invalidated (the remembered one is not): a miss.
        await other.InvalidateTagAsync(b, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(x, false, default)).Status);

        // y's remembered tag is invalidated, not its real one: still a hit; then its real one.
        await other.InvalidateTagAsync(c, default);
        var hit = await store.GetAsync(y, false, default);
        Assert.Equal((CacheLookupStatus.Hit, "y2"), (hit.Status, hit.Value.Value));
        await other.InvalidateTagAsync(d, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(y, false, default)).Status);
    }

    [Fact]
    public async Task Second_provider_instance_sees_the_lease_held_elsewhere_until_it_is_released()
    {
        using var first = CreateProvider();
        using var second = CreateProvider();
        var key = NewKey();
        var lease = await Store(first).GetAsync(key, true, default);
        Assert.True(lease.Lease.IsGranted);

        var other = await Store(second).GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, other.Status);
        Assert.False(other.Lease.IsGranted);
        var many = await Store(second).GetManyAsync([key], true, default);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, many[0].Status);

        await Store(first).ReleaseLeaseAsync(key, lease.Lease, default);
        var now = await Store(second).GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Miss, now.Status);
        Assert.True(now.Lease.IsGranted);
    }

    [Fact]
    public async Task Stale_entry_gives_one_refresh_lease_across_provider_instances_and_keeps_the_value_when_released()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var first = CreateProvider(time);
        using var second = CreateProvider(time);
        var store = Store(first);
        var other = Store(second);
        var key = NewKey();
        await store.SetAsync(key, CacheValue<string>.Of("old"), new StoreEntryOptions(TimeSpan.FromMinutes(1), null, TimeSpan.FromMinutes(10)), default);
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);

        time.Advance(TimeSpan.FromMinutes(2));
        var plain = await other.GetAsync(key, false, default);
        Assert.Equal(CacheLookupStatus.Stale, plain.Status);
        Assert.Equal(TimeSpan.FromMinutes(1), plain.ExpiredFor);

        var stale = await store.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Stale, stale.Status);
        Assert.Equal("old", stale.Value.Value);
        Assert.True(stale.Lease.IsGranted);

        // Every other client, in this process or another, is told someone refreshes it, and gets the stale value.
        var held = await other.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.StaleLeaseHeldElsewhere, held.Status);
        Assert.Equal("old", held.Value.Value);
        Assert.Equal(TimeSpan.FromMinutes(1), held.ExpiredFor);
        Assert.False(held.Lease.IsGranted);
        Assert.Equal(CacheLookupStatus.StaleLeaseHeldElsewhere, (await other.GetManyAsync([key], true, default))[0].Status);
        Assert.Equal(CacheLookupStatus.StaleLeaseHeldElsewhere, (await store.GetAsync(key, true, default)).Status);

        // Releasing keeps the stale value for fail-safe and lets the next client refresh.
        await store.ReleaseLeaseAsync(key, stale.Lease, default);
        Assert.Equal(CacheLookupStatus.Stale, (await store.GetAsync(key, false, default)).Status);
        var next = await other.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Stale, next.Status);
        Assert.True(next.Lease.IsGranted);
        Assert.True(await other.FillAsync(key, next.Lease, CacheValue<string>.Of("new"), FiveMinutes, default));
        Assert.False(await store.FillAsync(key, stale.Lease, CacheValue<string>.Of("older"), FiveMinutes, default));
        Assert.Equal("new", (await store.GetAsync(key, false, default)).Value.Value);

        // The fill ended the refresh: once stale again, the entry can be claimed again at once.
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.True((await store.GetAsync(key, true, default)).Lease.IsGranted);
    }

    [Fact]
    public async Task Stale_key_too_long_for_a_plain_refresh_claim_still_gets_an_exclusive_claim()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = CreateProvider(time, o => o.HashInvalidKeys = false);
        var store = Store(provider);
        var key = NewKey().PadRight(245 - "Test:".Length, 'k'); // 245 bytes stored: the claim's key is hashed
        await store.SetAsync(key, CacheValue<string>.Of("old"), new StoreEntryOptions(TimeSpan.FromMinutes(1), null, TimeSpan.FromMinutes(10)), default);
        time.Advance(TimeSpan.FromMinutes(2));

        var first = await store.GetAsync(key, true, default);
        var second = await store.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Stale, first.Status);
        Assert.True(first.Lease.IsGranted);
        Assert.Equal(CacheLookupStatus.StaleLeaseHeldElsewhere, second.Status);
        Assert.True(await store.FillAsync(key, first.Lease, CacheValue<string>.Of("new"), FiveMinutes, default));
        Assert.Equal("new", (await store.GetAsync(key, false, default)).Value.Value);
    }

    [Fact]
    public async Task Stale_refresh_lease_is_fenced_by_writes_and_a_leftover_claim_of_an_older_version_is_taken_over()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = CreateProvider(time);
        var store = Store(provider);
        var retained = new StoreEntryOptions(TimeSpan.FromMinutes(1), null, TimeSpan.FromMinutes(10));
        var key = NewKey();
        await store.SetAsync(key, CacheValue<string>.Of("v1"), retained, default);
        time.Advance(TimeSpan.FromMinutes(2));
        var refresh = await store.GetAsync(key, true, default);
        Assert.True(refresh.Lease.IsGranted);

        // A set while the refresh loads: the refresh's fill is fenced off. Its claim stays behind (as if the refreshing
        // client died before cleaning up), naming the older version.
        await store.SetAsync(key, CacheValue<string>.Of("v2"), retained, default);
        using var raw = Clients.Create(fixture.Addresses);
        Assert.Equal(MetaStatus.Value, (await raw.ExecuteOnNodeOfAsync("Test:" + key, [new MetaCommand("mg", raw.CompanionKey("Test:" + key, "refresh"), "v")], default))[0].Status);

        time.Advance(TimeSpan.FromMinutes(2));
        var again = await store.GetAsync(key, true, default);
        Assert.Equal(CacheLookupStatus.Stale, again.Status);
        Assert.Equal("v2", again.Value.Value);
        Assert.True(again.Lease.IsGranted);
        Assert.False(await store.FillAsync(key, refresh.Lease, CacheValue<string>.Of("from v1's refresh"), FiveMinutes, default));
        Assert.True(await store.FillAsync(key, again.Lease, CacheValue<string>.Of("v3"), FiveMinutes, default));
        Assert.Equal("v3", (await store.GetAsync(key, false, default)).Value.Value);
    }

    [Fact]
    public async Task Sliding_entry_is_renewed_by_a_hit_and_refresh()
    {
        using var provider = CreateProvider();
        var store = Store(provider);
        var key = NewKey();
        await store.SetAsync(key, CacheValue<string>.Of("s"), new StoreEntryOptions(TimeSpan.FromHours(1), TimeSpan.FromSeconds(100)), default);
        using var raw = Clients.Create(fixture.Addresses);
        await raw.GetAsync("Test:" + key, "T5", default); // shorten the TTL behind the store's back
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);
        Assert.InRange((await raw.GetAsync("Test:" + key, "t", default)).Ttl, 90, 101);

        await raw.GetAsync("Test:" + key, "T5", default);
        await store.RefreshAsync(key, default);
        Assert.InRange((await raw.GetAsync("Test:" + key, "t", default)).Ttl, 90, 101);
    }

    [Fact]
    public async Task Corrupt_entry_is_reported_removed_and_missed()
    {
        using var provider = CreateProvider();
        var observer = new RecordingObserver();
        var store = Store(provider, observer);
        using var raw = Clients.Create(fixture.Addresses);
        var garbage = NewKey();
        await raw.SetAsync("Test:" + garbage, "not an envelope"u8.ToArray(), null, string.Empty, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(garbage, false, default)).Status);
        Assert.Contains("Test:" + garbage, observer.Corrupt);
        Assert.Equal(MetaStatus.Miss, (await raw.GetAsync("Test:" + garbage, "v", default)).Status);

        var badPayload = NewKey();
        await store.SetAsync(badPayload, CacheValue<string>.Of("CORRUPT"), FiveMinutes, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(badPayload, true, default)).Status);
        Assert.Contains("Test:" + badPayload, observer.Corrupt);
    }

    [Fact]
    public async Task Get_many_spans_nodes_with_leases()
    {
        using var provider = CreateProvider();
        var store = Store(provider);
        var keys = Enumerable.Range(0, 30).Select(_ => NewKey()).ToArray();
        for (var i = 0; i < keys.Length; i += 2)
        {
            await store.SetAsync(keys[i], CacheValue<string>.Of("v" + i), FiveMinutes, default);
        }

        var lookups = await store.GetManyAsync(keys, true, default);
        for (var i = 0; i < keys.Length; i++)
        {
            if (i % 2 == 0)
            {
                Assert.Equal(CacheLookupStatus.Hit, lookups[i].Status);
                Assert.Equal("v" + i, lookups[i].Value.Value);
            }
            else
            {
                Assert.Equal(CacheLookupStatus.Miss, lookups[i].Status);
                Assert.True(await store.FillAsync(keys[i], lookups[i].Lease, CacheValue<string>.Of("f" + i), FiveMinutes, default));
            }
        }

        var nodes = keys.Select(k => provider.Client.NodeFor(provider.Client.EncodeKey("Test:" + k)).Name).Distinct().Count();
        Assert.Equal(3, nodes);
    }

    [Fact]
    public async Task Keys_and_values_memcached_cannot_hold()
    {
        using var provider = CreateProvider(configure: o => o.MaxItemSize = 1024);
        var store = Store(provider);
        var error = await Assert.ThrowsAsync<CacheValueTooLargeException>(async () => await store.SetAsync("big", CacheValue<string>.Of(new string('x', 2000)), FiveMinutes, default));
        Assert.Contains("Test:big", error.Message, StringComparison.Ordinal);

        // Long keys and keys with spaces are hashed by default.
        var longKey = new string('é', 300) + " " + NewKey();
        await store.SetAsync(longKey, CacheValue<string>.Of("long"), FiveMinutes, default);
        Assert.Equal("long", (await store.GetAsync(longKey, false, default)).Value.Value);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:abc")]
    [InlineData("127.0.0.1:11211:0")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("")]
    public void Malformed_server_is_rejected_naming_it(string server)
    {
        var error = Assert.Throws<ArgumentException>(() => new MemcachedCacheProvider(Options.Create(Clients.Options([server]))));
        Assert.Contains($"'{server}'", error.Message, StringComparison.Ordinal);

        using var services = new ServiceCollection().AddCachePatterns().UseMemcached(o => o.Servers.Add(server)).Services.BuildServiceProvider();
        var invalid = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsMonitor<MemcachedCacheProviderOptions>>().Get(CachePatternsBuilder.DefaultCacheName));
        Assert.Contains($"'{server}'", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task App_starts_and_reads_through_while_memcached_is_down()
    {
        var closed = MemcachedProcess.FreePort();
        var loads = 0;
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o => o.Servers.Add($"127.0.0.1:{closed}"))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new Loader(() => Interlocked.Increment(ref loads)))
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("row-1", await strategy.GetAsync(1));
        Assert.Equal("row-2", await strategy.GetAsync(2));
        Assert.Equal(2, loads);
    }

    [Fact]
    public async Task Dead_node_fails_with_its_name_and_reason_and_is_probed_back()
    {
        using var server = new MemcachedProcess();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options([server.Address], o => o.FailuresBeforeDead = 2)), time);
        var store = Store(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), FiveMinutes, default);
        server.Kill();

        // The open connection may be found broken (ConnectionFailed) before a new one is refused (ConnectionRefused): which
        // one a call meets depends on when the client notices the kill.
        var reasons = new List<CacheProviderFailureReason>();
        for (var i = 0; i < 2; i++)
        {
            var failure = await Assert.ThrowsAsync<MemcachedException>(async () => await store.GetAsync("k", true, default));
            Assert.Equal(server.Address, failure.Node);
            Assert.Contains(failure.Reason, new[] { CacheProviderFailureReason.ConnectionRefused, CacheProviderFailureReason.ConnectionFailed });
            reasons.Add(failure.Reason);
        }

        var node = provider.Client.Nodes[0];
        Assert.True(node.IsDead);
        Assert.Equal(CacheProviderFailureReason.NodeDown, (await Assert.ThrowsAsync<MemcachedException>(async () => await store.GetAsync("k", true, default))).Reason);
        var health = await provider.CheckHealthAsync();
        Assert.False(health.IsHealthy);
        Assert.Contains($"{server.Address} dead ({reasons[^1]})", health.Description, StringComparison.Ordinal);
        await Assert.ThrowsAsync<MemcachedException>(async () => await store.InvalidateAsync("k", default));

        server.Start();
        for (var i = 0; i < 200 && node.IsDead; i++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(20);
        }

        Assert.False(node.IsDead);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);
        Assert.True((await provider.CheckHealthAsync()).IsHealthy);
    }

    private sealed class Loader(Action onLoad) : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            onLoad();
            return ValueTask.FromResult(LoadResult.Found($"row-{key}"));
        }

        public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(keys.ToDictionary(k => k, k => LoadResult.Found($"row-{k}")));
    }
}
