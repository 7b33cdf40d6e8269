using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;

namespace CachePatterns.Redis.Tests;

/// <summary><see cref="RedisCacheProviderOptions.ReadFromReplicas"/> against a real primary + replica.</summary>
[Collection(ReplicatedRedisGroup.Name)]
public sealed class RedisReplicaTests(ReplicatedRedis servers)
{
    private static readonly StoreEntryOptions Minute = new(TimeSpan.FromMinutes(1));

    private RedisCacheProvider Provider(bool readFromReplicas, string instance) =>
        new(Microsoft.Extensions.Options.Options.Create(new RedisCacheProviderOptions
        {
            Configuration = servers.Configuration,
            InstanceName = instance,
            ReadFromReplicas = readFromReplicas,
        }));

    private async Task ReplicatedAsync(string key) =>
        await Wait.UntilAsync(async () => await servers.Replica.Database.KeyExistsAsync(key), TimeSpan.FromSeconds(10), $"{key} reaches the replica");

    private async Task ResetStatsAsync()
    {
        await servers.Primary.Database.ExecuteAsync("CONFIG", "RESETSTAT");
        await servers.Replica.Database.ExecuteAsync("CONFIG", "RESETSTAT");
    }

    private static async Task<long> ReadOnlyScriptCallsAsync(RedisServer server) =>
        await ReplicatedRedis.CallsAsync(server, "evalsha_ro") + await ReplicatedRedis.CallsAsync(server, "eval_ro");

    [Fact]
    public async Task Plain_reads_are_served_by_the_replica_while_leases_fills_and_writes_stay_on_the_primary()
    {
        using var provider = Provider(readFromReplicas: true, "rr1:");
        var store = RedisServer.CreateStore(provider);
        for (var i = 0; i < 10; i++)
        {
            await store.SetAsync($"k{i}", CacheValue<string>.Of($"v{i}"), Minute, default);
        }

        await ReplicatedAsync("{rr1:P:k9}");
        await ResetStatsAsync();

        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                var hit = await store.GetAsync($"k{i}", false, default);
                Assert.Equal(CacheLookupStatus.Hit, hit.Status);
                Assert.Equal($"v{i}", hit.Value.Value);
            }
        }

        var many = await store.GetManyAsync(["k1", "k2", "absent"], false, default);
        Assert.Equal(["v1", "v2"], many.Take(2).Select(l => l.Value.Value));
        Assert.Equal(CacheLookupStatus.Miss, many[2].Status);

        // Each plain read is a GET on the replica (or, before the server clock is learnt, a read-only script, which
        // counts its own GET too); none reaches the primary.
        Assert.True(await ReadOnlyScriptCallsAsync(servers.Replica) + await ReplicatedRedis.CallsAsync(servers.Replica, "get") >= 103);
        Assert.Equal(0, await ReadOnlyScriptCallsAsync(servers.Primary));
        Assert.Equal(0, await ReplicatedRedis.CallsAsync(servers.Primary, "get"));

        // A lease-taking read and its fill run on the primary (a replica refuses writes).
        var miss = await store.GetAsync("absent", true, default);
        Assert.True(miss.Lease.IsGranted);
        Assert.True(await store.FillAsync("absent", miss.Lease, CacheValue<string>.Of("filled"), Minute, default));
        Assert.True(await servers.Primary.Database.KeyExistsAsync("{rr1:P:absent}"));
        await store.InvalidateAsync("k1", default);
        Assert.False(await servers.Primary.Database.KeyExistsAsync("{rr1:P:k1}"));

        // Eventually consistent: once replicated, the replica no longer serves the invalidated value.
        await Wait.UntilAsync(async () => (await store.GetAsync("k1", false, default)).Status == CacheLookupStatus.Miss, TimeSpan.FromSeconds(10), "the invalidation reaches the replica");
        Assert.Equal(0, await ReadOnlyScriptCallsAsync(servers.Primary));
    }

    [Fact]
    public async Task Without_the_option_every_read_runs_on_the_primary()
    {
        using var provider = Provider(readFromReplicas: false, "rr2:");
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);
        await ReplicatedAsync("{rr2:P:k}");
        await ResetStatsAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v", (await store.GetAsync("k", false, default)).Value.Value);
        }

        Assert.Equal(0, await ReadOnlyScriptCallsAsync(servers.Replica));
        Assert.Equal(0, await ReplicatedRedis.CallsAsync(servers.Replica, "evalsha") + await ReplicatedRedis.CallsAsync(servers.Replica, "eval"));
        Assert.Equal(0, await ReplicatedRedis.CallsAsync(servers.Replica, "get"));
        Assert.True(await ReplicatedRedis.CallsAsync(servers.Primary, "get") >= 20);
    }

    [Fact]
    public async Task A_sliding_entry_read_on_the_replica_is_renewed_on_the_primary_when_half_its_window_is_gone()
    {
        using var provider = Provider(readFromReplicas: true, "rr3:");
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("s", CacheValue<string>.Of("v"), new StoreEntryOptions(TimeSpan.FromMinutes(5), SlidingExpiration: TimeSpan.FromSeconds(4)), default);
        await ReplicatedAsync("{rr3:P:s}");
        var expiresAtFirst = await ExpiresOnPrimaryAsync("{rr3:P:s}");

        // Fresh: a replica read does not touch the primary.
        await ResetStatsAsync();
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("s", false, default)).Status);
        Assert.Equal(0, await ReplicatedRedis.CallsAsync(servers.Primary, "evalsha") + await ReplicatedRedis.CallsAsync(servers.Primary, "eval"));
        Assert.Equal(expiresAtFirst, await ExpiresOnPrimaryAsync("{rr3:P:s}"));

        // Past half the window: the read still hits, and renews the entry on the primary. The renewal is judged by the
        // envelope's expiry moving forward, not by catching the TTL inside a window, so a slow machine cannot miss it.
        await Wait.UntilAsync(async () => (await servers.Primary.Database.KeyTimeToLiveAsync("{rr3:P:s}")) < TimeSpan.FromMilliseconds(1800), TimeSpan.FromSeconds(8), "half the sliding window passes");
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync("s", false, default)).Status);
        await Wait.UntilAsync(async () => await ExpiresOnPrimaryAsync("{rr3:P:s}") > expiresAtFirst, TimeSpan.FromSeconds(5), "the primary renews the entry");
    }

    /// <summary>The envelope's expiry (server milliseconds, bytes 2..9 little-endian) as stored on the primary.</summary>
    private async Task<long> ExpiresOnPrimaryAsync(string key)
    {
        var stored = (byte[]?)await servers.Primary.Database.StringGetAsync(key);
        Assert.NotNull(stored);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(stored.AsSpan(2, 8));
    }
}
