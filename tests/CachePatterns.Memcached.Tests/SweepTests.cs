using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary><see cref="ICacheProvider.SweepAsync"/> on memcached: every node emptied, leases and write registrations revoked.</summary>
public sealed class SweepTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private static readonly StoreEntryOptions Hour = new(TimeSpan.FromHours(1));

    [Fact]
    public async Task Sweep_removes_every_key_on_every_node_and_revokes_leases_and_writes()
    {
        fixture.EnsureRunning();
        using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses)));
        ICacheProvider contract = provider;
        var store = provider.CreateStore(new CacheStoreDescriptor<int, string>("S", "S:", new Utf8Serializer()));
        for (var i = 0; i < 60; i++)
        {
            await store.SetAsync(i, CacheValue<string>.Of("v"), Hour, default);
        }

        var lease = (await store.GetAsync(100, true, default)).Lease;
        var write = await store.BeginWriteAsync(101, default);
        Assert.True(contract.CanSweep);
        await contract.SweepAsync("S:", default);

        var lookups = await store.GetManyAsync(Enumerable.Range(0, 60).ToArray(), false, default);
        Assert.All(lookups, l => Assert.Equal(CacheLookupStatus.Miss, l.Status));
        Assert.False(await store.FillAsync(100, lease, CacheValue<string>.Of("loaded before the sweep"), Hour, default));
        Assert.False(await store.CompleteWriteAsync(101, write, CacheValue<string>.Of("written before the sweep"), Hour, default));
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(101, false, default)).Status);
    }

    [Fact]
    public async Task Servers_shared_with_other_applications_are_never_swept()
    {
        using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.ReturningNodes = MemcachedReturningNodePolicy.Keep)));
        ICacheProvider contract = provider;
        Assert.False(contract.CanSweep);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await contract.SweepAsync("S:", default));
    }
}
