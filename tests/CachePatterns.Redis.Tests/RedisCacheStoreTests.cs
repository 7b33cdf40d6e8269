using CachePatterns.Providers;
using CachePatterns.Redis.Internal;
using CachePatterns.Redis.Tests.Support;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Every operation of the provider contract against real Redis, with two clients where it matters; run unchanged on one
/// server (<see cref="RedisCacheStoreTests"/>) and on a 3-primary Cluster (<see cref="RedisClusterCacheStoreTests"/>).
/// </summary>
public abstract class RedisCacheStoreContract(IRedisTarget redis)
{
    private static readonly StoreEntryOptions Minute = new(TimeSpan.FromMinutes(1));

    [Fact]
    public async Task Miss_grants_a_lease_the_fill_stores_and_the_next_get_hits()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);

        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("a", acquireLease: false, default)).Status);
        var miss = await store.GetAsync("a", acquireLease: true, default);
        Assert.Equal(CacheLookupStatus.Miss, miss.Status);
        Assert.True(miss.Lease.IsGranted);

        Assert.True(await store.FillAsync("a", miss.Lease, CacheValue<string>.Of("one"), Minute, default));
        var hit = await store.GetAsync("a", acquireLease: true, default);
        Assert.Equal(CacheLookupStatus.Hit, hit.Status);
        Assert.Equal("one", hit.Value.Value);
        Assert.False(hit.Lease.IsGranted);

        // The lease is consumed by the fill: presenting it again stores nothing.
        Assert.False(await store.FillAsync("a", miss.Lease, CacheValue<string>.Of("two"), Minute, default));
        Assert.Equal("one", (await store.GetAsync("a", false, default)).Value.Value);
    }

    [Fact]
    public async Task Keys_are_hash_tagged_so_value_lease_and_writes_share_a_cluster_slot()
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        var miss = await store.GetAsync("k}{1", acquireLease: true, default);
        var value = $"{{{instance}P:k}}{{1}}";

        Assert.True(await redis.Database.KeyExistsAsync(value + ":l"));
        Assert.True(await store.FillAsync("k}{1", miss.Lease, CacheValue<string>.Of("v"), Minute, default));
        Assert.True(await redis.Database.KeyExistsAsync(value));
        Assert.False(await redis.Database.KeyExistsAsync(value + ":l"));
        var slot = redis.Raw.HashSlot(value);
        Assert.Equal(slot, redis.Raw.HashSlot(value + ":l"));
        Assert.Equal(slot, redis.Raw.HashSlot(value + ":w"));
    }

    [Fact]
    public async Task Second_client_sees_the_lease_held_elsewhere_until_it_is_released()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var a = RedisServer.CreateStore(first);
        var b = RedisServer.CreateStore(second);

        var lease = (await a.GetAsync("k", true, default)).Lease;
        Assert.True(lease.IsGranted);
        var other = await b.GetAsync("k", true, default);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, other.Status);
        Assert.False(other.Lease.IsGranted);

        // Without a lease request the second client sees a plain miss.
        Assert.Equal(CacheLookupStatus.Miss, (await b.GetAsync("k", false, default)).Status);

        await a.ReleaseLeaseAsync("k", lease, default);
        var now = await b.GetAsync("k", true, default);
        Assert.Equal(CacheLookupStatus.Miss, now.Status);
        Assert.True(now.Lease.IsGranted);

        // A released lease cannot fill, and releasing it again does not release the second client's lease.
        Assert.False(await a.FillAsync("k", lease, CacheValue<string>.Of("old"), Minute, default));
        await a.ReleaseLeaseAsync("k", lease, default);
        Assert.True(await b.FillAsync("k", now.Lease, CacheValue<string>.Of("new"), Minute, default));
        Assert.Equal("new", (await a.GetAsync("k", false, default)).Value.Value);
    }

    [Fact]
    public async Task A_lease_of_a_dead_client_expires_after_LeaseTimeout()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(o => o.LeaseTimeout = TimeSpan.FromMilliseconds(300), instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var a = RedisServer.CreateStore(first);
        var b = RedisServer.CreateStore(second);

        var abandoned = (await a.GetAsync("k", true, default)).Lease;
        Assert.True(abandoned.IsGranted);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await b.GetAsync("k", true, default)).Status);

        CacheLookup<string> lookup = default;
        await Wait.UntilAsync(async () => (lookup = await b.GetAsync("k", true, default)).Status == CacheLookupStatus.Miss, TimeSpan.FromSeconds(5), "the abandoned lease expires");
        Assert.True(lookup.Lease.IsGranted);
        Assert.False(await a.FillAsync("k", abandoned, CacheValue<string>.Of("late"), Minute, default));
        Assert.True(await b.FillAsync("k", lookup.Lease, CacheValue<string>.Of("fresh"), Minute, default));
    }

    public static TheoryData<string> Revokers => ["invalidate", "set", "begin-write", "complete-write", "abort-write"];

    [Theory]
    [MemberData(nameof(Revokers))]
    public async Task A_lease_is_revoked_by_a_later_change_of_the_key(string revoker)
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var reader = RedisServer.CreateStore(first);
        var writer = RedisServer.CreateStore(second);

        // For complete/abort, the write is already in flight when the reader asks.
        var token = revoker is "complete-write" or "abort-write" ? await writer.BeginWriteAsync("k", default) : CacheWriteToken.None;

        var lease = (await reader.GetAsync("k", true, default)).Lease;
        switch (revoker)
        {
            case "invalidate":
                Assert.True(lease.IsGranted);
                await writer.InvalidateAsync("k", default);
                break;
            case "set":
                Assert.True(lease.IsGranted);
                await writer.SetAsync("k", CacheValue<string>.Of("set"), Minute, default);
                break;
            case "begin-write":
                Assert.True(lease.IsGranted);
                await writer.BeginWriteAsync("k", default);
                break;
            case "complete-write":
                // A write in flight refuses leases altogether (the fill could not store anyway).
                Assert.False(lease.IsGranted);
                Assert.True(await writer.CompleteWriteAsync("k", token, CacheValue<string>.Of("written"), Minute, default));
                break;
            default:
                Assert.False(lease.IsGranted);
                await writer.AbortWriteAsync("k", token, default);
                break;
        }

        Assert.False(await reader.FillAsync("k", lease, CacheValue<string>.Of("stale"), Minute, default));
        var after = await reader.GetAsync("k", false, default);
        var expected = revoker switch { "set" => "set", "complete-write" => "written", _ => null };
        Assert.Equal(expected, after.Status == CacheLookupStatus.Hit ? after.Value.Value : null);
    }

    [Fact]
    public async Task Fills_are_refused_while_a_write_is_in_flight_and_readers_wait_for_it()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var reader = RedisServer.CreateStore(first);
        var writer = RedisServer.CreateStore(second);

        var token = await writer.BeginWriteAsync("k", default);
        Assert.True(token.IsRegistered);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await reader.GetAsync("k", true, default)).Status);

        Assert.True(await writer.CompleteWriteAsync("k", token, CacheValue<string>.Of("w"), Minute, default));
        Assert.Equal("w", (await reader.GetAsync("k", true, default)).Value.Value);
        Assert.False(await redis.Database.KeyExistsAsync($"{{{instance}P:k}}:w"));
    }

    [Fact]
    public async Task Overlapping_writes_remove_the_key_instead_of_storing_either_value()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var a = RedisServer.CreateStore(first);
        var b = RedisServer.CreateStore(second);
        await a.SetAsync("k", CacheValue<string>.Of("v0"), Minute, default);

        var w1 = await a.BeginWriteAsync("k", default);
        var w2 = await b.BeginWriteAsync("k", default);
        Assert.False(await b.CompleteWriteAsync("k", w2, CacheValue<string>.Of("v2"), Minute, default));
        Assert.False(await a.CompleteWriteAsync("k", w1, CacheValue<string>.Of("v1"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await a.GetAsync("k", false, default)).Status);
        Assert.False(await redis.Database.KeyExistsAsync($"{{{instance}P:k}}:w"));

        // In the other completion order too.
        w1 = await a.BeginWriteAsync("k", default);
        w2 = await b.BeginWriteAsync("k", default);
        Assert.False(await a.CompleteWriteAsync("k", w1, CacheValue<string>.Of("v1"), Minute, default));
        Assert.False(await b.CompleteWriteAsync("k", w2, CacheValue<string>.Of("v2"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await a.GetAsync("k", false, default)).Status);

        // And the next write, alone again, stores.
        var w3 = await b.BeginWriteAsync("k", default);
        Assert.True(await b.CompleteWriteAsync("k", w3, CacheValue<string>.Of("v3"), Minute, default));
        Assert.Equal("v3", (await a.GetAsync("k", false, default)).Value.Value);
    }

    [Fact]
    public async Task An_invalidation_or_set_during_a_write_makes_its_completion_remove_the_key()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);

        var write = await store.BeginWriteAsync("k", default);
        await store.InvalidateAsync("k", default);
        Assert.False(await store.CompleteWriteAsync("k", write, CacheValue<string>.Of("w"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);

        write = await store.BeginWriteAsync("k", default);
        await store.SetAsync("k", CacheValue<string>.Of("set"), Minute, default);
        Assert.False(await store.CompleteWriteAsync("k", write, CacheValue<string>.Of("w"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);
    }

    [Fact]
    public async Task Abort_removes_the_key_and_an_unregistered_completion_only_invalidates()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);

        var write = await store.BeginWriteAsync("k", default);
        await store.AbortWriteAsync("k", write, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);

        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);
        Assert.False(await store.CompleteWriteAsync("k", CacheWriteToken.None, CacheValue<string>.Of("w"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);
    }

    [Fact]
    public async Task A_write_registration_of_a_dead_client_expires_after_WriteTimeout()
    {
        // 2 s: the read right after BeginWrite must land inside it even on a loaded machine (300 ms flaked at load 28).
        using var provider = redis.CreateProvider(o => o.WriteTimeout = TimeSpan.FromSeconds(2));
        var store = RedisServer.CreateStore(provider);

        var abandoned = await store.BeginWriteAsync("k", default);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await store.GetAsync("k", true, default)).Status);
        CacheLookup<string> lookup = default;
        await Wait.UntilAsync(async () => (lookup = await store.GetAsync("k", true, default)).Status == CacheLookupStatus.Miss, TimeSpan.FromSeconds(20), "the abandoned write registration expires");
        Assert.True(await store.FillAsync("k", lookup.Lease, CacheValue<string>.Of("v"), Minute, default));

        // The late completion of the expired write is conservative: it removes.
        Assert.False(await store.CompleteWriteAsync("k", abandoned, CacheValue<string>.Of("late"), Minute, default));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);
    }

    [Fact]
    public async Task Negative_entries_are_cached_as_not_found()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);
        var lease = (await store.GetAsync("gone", true, default)).Lease;

        Assert.True(await store.FillAsync("gone", lease, CacheValue<string>.NotFound, Minute, default));
        var hit = await store.GetAsync("gone", false, default);
        Assert.Equal(CacheLookupStatus.Hit, hit.Status);
        Assert.False(hit.Value.Exists);

        await store.SetAsync("gone2", CacheValue<string>.NotFound, Minute, default);
        Assert.False((await store.GetAsync("gone2", false, default)).Value.Exists);
    }

    [Fact]
    public async Task Expired_entry_is_stale_during_fail_safe_retention_with_one_lease_for_one_client()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var a = RedisServer.CreateStore(first);
        var b = RedisServer.CreateStore(second);
        await a.SetAsync("k", CacheValue<string>.Of("old"), new StoreEntryOptions(TimeSpan.FromMilliseconds(200), StaleRetention: TimeSpan.FromMinutes(1)), default);
        Assert.Equal(CacheLookupStatus.Hit, (await a.GetAsync("k", false, default)).Status);

        // Physical TTL = logical + retention.
        var ttl = await redis.Database.KeyTimeToLiveAsync($"{{{instance}P:k}}");
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(61));

        await Wait.UntilAsync(async () => (await a.GetAsync("k", false, default)).Status == CacheLookupStatus.Stale, TimeSpan.FromSeconds(5), "the entry turns stale");
        var stale = await a.GetAsync("k", true, default);
        Assert.Equal(CacheLookupStatus.Stale, stale.Status);
        Assert.Equal("old", stale.Value.Value);
        Assert.True(stale.Lease.IsGranted);

        // The other client is told someone is refreshing, and still gets the stale value.
        var other = await b.GetAsync("k", true, default);
        Assert.Equal(CacheLookupStatus.StaleLeaseHeldElsewhere, other.Status);
        Assert.Equal("old", other.Value.Value);

        // How long ago it expired, by the server's clock: between what TIME said just before and just after the lookup.
        var expiresAt = RedisEnvelope.ExpiresAt((byte[])(await redis.Database.StringGetAsync($"{{{instance}P:k}}"))!);
        var server = redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]);
        var before = (await server.TimeAsync()).Ticks;
        var lookup = await b.GetAsync("k", false, default);
        var after = (await server.TimeAsync()).Ticks;
        Assert.Equal(CacheLookupStatus.Stale, lookup.Status);
        Assert.NotNull(lookup.ExpiredFor);
        var unixMs = (long ticks) => (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        Assert.InRange(lookup.ExpiredFor!.Value.TotalMilliseconds, unixMs(before) - expiresAt - 1, unixMs(after) - expiresAt + 1);
        Assert.NotNull(other.ExpiredFor);

        Assert.True(await a.FillAsync("k", stale.Lease, CacheValue<string>.Of("new"), Minute, default));
        Assert.Equal("new", (await b.GetAsync("k", true, default)).Value.Value);
    }

    [Fact]
    public async Task Sliding_expiration_is_renewed_by_hits_and_by_refresh_but_not_past_the_absolute_one()
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        var sliding = new StoreEntryOptions(TimeSpan.FromSeconds(30), SlidingExpiration: TimeSpan.FromMilliseconds(1500));
        await store.SetAsync("k", CacheValue<string>.Of("v"), sliding, default);
        var started = System.Diagnostics.Stopwatch.StartNew();

        // Kept alive for well over one window by hits (and refreshes) every ~150 ms.
        for (var i = 0; started.Elapsed < TimeSpan.FromMilliseconds(2500); i++)
        {
            await Task.Delay(150);
            if (i % 2 == 0)
            {
                Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("k", false, default)).Status);
            }
            else
            {
                await store.RefreshAsync("k", default);
            }
        }

        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("k", false, default)).Status);
        await Wait.UntilAsync(async () => !await redis.Database.KeyExistsAsync($"{{{instance}P:k}}"), TimeSpan.FromSeconds(5), "the idle entry expires");

        // The absolute expiration caps the window.
        await store.SetAsync("c", CacheValue<string>.Of("v"), new StoreEntryOptions(TimeSpan.FromSeconds(5), SlidingExpiration: TimeSpan.FromSeconds(30)), default);
        var ttl = await redis.Database.KeyTimeToLiveAsync($"{{{instance}P:c}}");
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(5));
        await store.GetAsync("c", false, default);
        ttl = await redis.Database.KeyTimeToLiveAsync($"{{{instance}P:c}}");
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task No_expiration_stores_without_a_ttl()
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), StoreEntryOptions.NoExpiration, default);
        Assert.Null(await redis.Database.KeyTimeToLiveAsync($"{{{instance}P:k}}"));
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("k", false, default)).Status);

        // Huge spans are capped (100 years) rather than overflowing the server's expire arithmetic.
        await store.SetAsync("huge", CacheValue<string>.Of("v"), new StoreEntryOptions(TimeSpan.MaxValue, TimeSpan.MaxValue, TimeSpan.MaxValue), default);
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("huge", false, default)).Status);
        Assert.True(await redis.Database.KeyTimeToLiveAsync($"{{{instance}P:huge}}") > TimeSpan.FromDays(365 * 99));
    }

    public static TheoryData<string, byte[]> Garbage => new()
    {
        { "not an envelope", "garbage"u8.ToArray() },
        { "unknown format version", [9, .. new byte[40]] },
        { "valid envelope, payload not JSON", [1, 0, .. new byte[32], .. "{not json"u8.ToArray()] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task A_corrupt_entry_is_reported_deleted_and_a_miss(string what, byte[] stored)
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        var observer = new RecordingObserver();
        var store = RedisServer.CreateStore(provider, observer);
        var key = $"{{{instance}P:k}}";
        await redis.Database.StringSetAsync(key, stored);

        var lookup = await store.GetAsync("k", acquireLease: true, default);
        Assert.Equal(CacheLookupStatus.Miss, lookup.Status);
        Assert.True(lookup.Lease.IsGranted, what);
        Assert.False(await redis.Database.KeyExistsAsync(key), what);
        var (reportedKey, _) = Assert.Single(observer.Corrupt);
        Assert.Equal(key, reportedKey);
        Assert.Contains(observer.Evicted, e => e.Reason == CacheEvictionReason.Corrupt);

        // The granted lease still fills.
        Assert.True(await store.FillAsync("k", lookup.Lease, CacheValue<string>.Of("ok"), Minute, default));
        Assert.Equal("ok", (await store.GetAsync("k", false, default)).Value.Value);
    }

    [Fact]
    public async Task An_oversized_value_is_refused_with_its_size_and_limit_and_the_lease_is_given_back()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(o => o.MaxValueBytes = 1000, instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(first);
        var big = new string('x', 2000);

        var ex = await Assert.ThrowsAsync<CacheValueTooLargeException>(async () => await store.SetAsync("k", CacheValue<string>.Of(big), Minute, default));
        Assert.Equal(1000, ex.Limit);
        Assert.Equal(2002, ex.Size);
        Assert.Contains($"{{{instance}P:k}}", ex.Message, StringComparison.Ordinal);

        var lease = (await store.GetAsync("k", true, default)).Lease;
        await Assert.ThrowsAsync<CacheValueTooLargeException>(async () => await store.FillAsync("k", lease, CacheValue<string>.Of(big), Minute, default));
        Assert.True((await RedisServer.CreateStore(second).GetAsync("k", true, default)).Lease.IsGranted);

        var write = await store.BeginWriteAsync("w", default);
        await Assert.ThrowsAsync<CacheValueTooLargeException>(async () => await store.CompleteWriteAsync("w", write, CacheValue<string>.Of(big), Minute, default));
        Assert.False(await redis.Database.KeyExistsAsync($"{{{instance}P:w}}:w"));
    }

    [Fact]
    public async Task An_oversized_key_is_refused_naming_MaxKeyBytes_before_anything_is_sent()
    {
        using var provider = redis.CreateProvider(o => o.MaxKeyBytes = 64);
        var store = RedisServer.CreateStore(provider);
        var key = new string('é', 40); // 80 bytes in UTF-8

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetAsync(key, true, default));
        Assert.Equal("key", ex.ParamName);
        Assert.Contains("MaxKeyBytes of 64", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetManyAsync(["ok", key], true, default));
        Assert.True((await store.GetAsync("ok", true, default)).Lease.IsGranted);
    }

    [Fact]
    public async Task GetMany_answers_each_key_in_order_with_leases_for_the_misses()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("b", CacheValue<string>.Of("B"), Minute, default);

        var lookups = await store.GetManyAsync(["a", "b", "c"], acquireLeases: true, default);
        Assert.Equal([CacheLookupStatus.Miss, CacheLookupStatus.Hit, CacheLookupStatus.Miss], lookups.Select(l => l.Status));
        Assert.Equal("B", lookups[1].Value.Value);
        Assert.True(lookups[0].Lease.IsGranted && lookups[2].Lease.IsGranted);
        Assert.NotEqual(lookups[0].Lease.Token, lookups[2].Lease.Token);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await store.GetManyAsync(["a"], true, default))[0].Status);
        Assert.True(await store.FillAsync("c", lookups[2].Lease, CacheValue<string>.Of("C"), Minute, default));
    }

    [Fact]
    public async Task A_lease_request_or_write_registration_whose_caller_gave_up_is_given_back()
    {
        var instance = redis.NewInstanceName();
        using var first = redis.CreateProvider(instanceName: instance);
        using var second = redis.CreateProvider(instanceName: instance);
        var a = RedisServer.CreateStore(first);
        var b = RedisServer.CreateStore(second);
        await a.GetAsync("warm", false, default);

        // Cancelled before the answer can be awaited: the request still reaches the server, and its lease is given back.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await a.GetAsync("k", true, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await a.GetManyAsync(["m1", "m2"], true, cancelled.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await a.BeginWriteAsync("w", cancelled.Token));

        foreach (var key in new[] { "k", "m1", "m2", "w" })
        {
            await Wait.UntilAsync(async () => (await b.GetAsync(key, true, default)).Lease.IsGranted, TimeSpan.FromSeconds(2), $"the abandoned lease or write of {key} is given back");
        }
    }

    [Fact]
    public async Task Invalidate_removes_and_reports_a_removal()
    {
        using var provider = redis.CreateProvider();
        var observer = new RecordingObserver();
        var store = RedisServer.CreateStore(provider, observer);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);
        await store.InvalidateAsync("k", default);
        await store.InvalidateAsync("k", default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("k", false, default)).Status);
        Assert.Equal([(CacheEvictionReason.Removed, 1)], observer.Evicted);
    }

    [Fact]
    public async Task Scripts_run_with_EVALSHA_once_the_server_knows_them()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);

        // Sliding entries are read by script (it renews them in the same round trip).
        await store.SetAsync("k", CacheValue<string>.Of("v"), new StoreEntryOptions(TimeSpan.FromMinutes(1), SlidingExpiration: TimeSpan.FromMinutes(1)), default);
        for (var i = 0; i < 5; i++)
        {
            await store.GetAsync("k", false, default);
        }

        var before = await CommandCallsAsync("evalsha");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("k", false, default)).Status);
        }

        Assert.True(await CommandCallsAsync("evalsha") - before >= 20);
    }

    [Fact]
    public async Task A_plain_hit_of_a_non_sliding_entry_is_a_GET_without_a_script()
    {
        using var provider = redis.CreateProvider();
        var store = await StoreReadingByGetAsync(provider);

        var evalBefore = await CommandCallsAsync("evalsha") + await CommandCallsAsync("eval");
        var getBefore = await CommandCallsAsync("get");
        for (var i = 0; i < 20; i++)
        {
            var hit = await store.GetAsync("k", false, default);
            Assert.Equal(CacheLookupStatus.Hit, hit.Status);
            Assert.Equal("v", hit.Value.Value);
        }

        Assert.Equal(evalBefore, await CommandCallsAsync("evalsha") + await CommandCallsAsync("eval"));
        Assert.True(await CommandCallsAsync("get") - getBefore >= 20);

        // Negative entries take the same path.
        await store.SetAsync("n", CacheValue<string>.NotFound, Minute, default);
        var negative = await store.GetAsync("n", false, default);
        Assert.Equal(CacheLookupStatus.Hit, negative.Status);
        Assert.False(negative.Value.Exists);
    }

    [Fact]
    public async Task A_stale_entry_is_judged_stale_by_the_estimated_server_clock_without_a_script()
    {
        using var provider = redis.CreateProvider();
        var store = await StoreReadingByGetAsync(provider);

        await store.SetAsync("s", CacheValue<string>.Of("old"), new StoreEntryOptions(TimeSpan.FromMilliseconds(1), StaleRetention: TimeSpan.FromMinutes(1)), default);
        CacheLookup<string> stale = default;
        await Wait.UntilAsync(
            async () => await ScriptsRunByAsync(async () => stale = await store.GetAsync("s", false, default)) == 0 && stale.Status == CacheLookupStatus.Stale,
            TimeSpan.FromSeconds(30),
            "a stale answer without a script");
        Assert.Equal("old", stale.Value.Value);
        Assert.True(stale.ExpiredFor > TimeSpan.Zero);
        Assert.True(stale.ExpiredFor < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_tagged_hit_reads_the_entry_and_its_tag_versions_in_one_round_trip_without_a_script_and_sees_a_later_invalidation()
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        using var other = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("q", CacheValue<string>.Of("page"), Minute with { Tags = ["category:5", "shop"] }, default);

        // The first hits run the read script (on a Cluster: read the versions after the entry) while the server's clock
        // and the entry's tags are learnt; from then on a hit is one MGET of the entry and the versions on a single server,
        // and on a Cluster (other slots) one GET and one MGET of the versions, sent together.
        // (Asked again until one hit shows exactly that: a command of another client of the server would blur one count.)
        var expected = redis is RedisCluster ? (1, 1, 0) : (0, 1, 0);
        await Wait.UntilAsync(
            async () =>
            {
                var (gets, mgets, scripts) = (await CommandCallsAsync("get"), await CommandCallsAsync("mget"), await CommandCallsAsync("evalsha"));
                var hit = await store.GetAsync("q", false, default);
                Assert.Equal((CacheLookupStatus.Hit, "page"), (hit.Status, hit.Value.Value));
                return (await CommandCallsAsync("get") - gets, await CommandCallsAsync("mget") - mgets, await CommandCallsAsync("evalsha") - scripts) == expected;
            },
            TimeSpan.FromSeconds(30),
            $"a tagged hit is {expected.Item1} GET and {expected.Item2} MGET without a script");

        // Another client invalidates one of its tags: the next read (its versions read after the invalidation returned) misses
        // and deletes the entry.
        await other.InvalidateTagAsync("shop", default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("q", false, default)).Status);
        Assert.False(await redis.Database.KeyExistsAsync("{" + instance + "P:q}"));
    }

    [Fact]
    public async Task A_tagged_hit_checks_the_tags_the_entry_carries_when_another_client_rewrote_it_with_other_tags()
    {
        var instance = redis.NewInstanceName();
        using var provider = redis.CreateProvider(instanceName: instance);
        using var other = redis.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        var otherStore = RedisServer.CreateStore(other);
        await store.SetAsync("x", CacheValue<string>.Of("x1"), Minute with { Tags = ["a"] }, default);
        await store.SetAsync("y", CacheValue<string>.Of("y1"), Minute with { Tags = ["c"] }, default);
        await Wait.UntilAsync(async () => await ScriptsRunByAsync(() => store.GetAsync("x", false, default)) == 0, TimeSpan.FromSeconds(30), "a tagged hit without a script");
        Assert.Equal("y1", (await store.GetAsync("y", false, default)).Value.Value);

        // This client remembers x: [a] and y: [c]; the other rewrites them with [b] and [d].
        await otherStore.SetAsync("x", CacheValue<string>.Of("x2"), Minute with { Tags = ["b"] }, default);
        await otherStore.SetAsync("y", CacheValue<string>.Of("y2"), Minute with { Tags = ["d"] }, default);

        // x's real tag is invalidated (the remembered one is not): a miss.
        await other.InvalidateTagAsync("b", default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("x", false, default)).Status);

        // y's remembered tag is invalidated, not its real one: still a hit.
        await other.InvalidateTagAsync("c", default);
        var y = await store.GetAsync("y", false, default);
        Assert.Equal((CacheLookupStatus.Hit, "y2"), (y.Status, y.Value.Value));

        // And now y's real tag, remembered since the last read.
        await other.InvalidateTagAsync("d", default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync("y", false, default)).Status);
    }

    /// <summary>A store holding <c>k</c> = <c>v</c> (one minute) once its hits no longer run a script.</summary>
    private async Task<ICacheStore<string, string>> StoreReadingByGetAsync(RedisCacheProvider provider)
    {
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);

        // The first reads run the script while the server's clock is learnt in the background.
        await Wait.UntilAsync(async () => await ScriptsRunByAsync(() => store.GetAsync("k", false, default)) == 0, TimeSpan.FromSeconds(30), "a hit without a script");
        return store;
    }

    /// <summary>How many scripts the server ran for one call (on every node).</summary>
    private async Task<long> ScriptsRunByAsync(Func<Task> call)
    {
        var before = await CommandCallsAsync("evalsha") + await CommandCallsAsync("eval");
        await call();
        return await CommandCallsAsync("evalsha") + await CommandCallsAsync("eval") - before;
    }

    private Task<long> ScriptsRunByAsync(Func<ValueTask<CacheLookup<string>>> call) => ScriptsRunByAsync(async () => { await call(); });

    /// <summary>Calls of one command summed over every node (on a Cluster the key lives on one of them).</summary>
    private async Task<long> CommandCallsAsync(string command)
    {
        long calls = 0;
        foreach (var endpoint in redis.Raw.GetEndPoints())
        {
            calls += CommandCalls(await redis.Raw.GetServer(endpoint).InfoRawAsync("commandstats"), command);
        }

        return calls;
    }

    private static long CommandCalls(string? info, string command)
    {
        var line = info?.Split('\n').FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:", StringComparison.Ordinal));
        if (line is null)
        {
            return 0;
        }

        var calls = line.Split(':', ',')[1];
        return long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

[Collection(RedisServerGroup.Name)]
public sealed class RedisCacheStoreTests(RedisServer redis) : RedisCacheStoreContract(redis);

[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterCacheStoreTests(RedisCluster cluster) : RedisCacheStoreContract(cluster);
