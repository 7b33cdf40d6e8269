using CachePatterns.Memory;
using CachePatterns.Memory.Internal;
using CachePatterns.Providers;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Memory;

/// <summary>The fencing rules of <see cref="ICacheStore{TKey, TValue}"/>, checked directly on the in-memory store.</summary>
public sealed class MemoryCacheStoreFencingTests : IDisposable
{
    private static readonly StoreEntryOptions Options1Hour = new(TimeSpan.FromHours(1));
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly MemoryCacheProvider _provider = new(Options.Create(new MemoryCacheProviderOptions()), new FakeTimeProvider());
    private readonly MemoryCacheStore<int, string> _store;

    public MemoryCacheStoreFencingTests() =>
        _store = (MemoryCacheStore<int, string>)_provider.CreateStore(new CacheStoreDescriptor<int, string>("fencing", "f:", new MarkedStringSerializer()));

    public void Dispose() => _provider.Dispose();

    [Fact]
    public async Task Miss_with_lease_then_fill_stores_and_releases_the_fence()
    {
        var lookup = await _store.GetAsync(1, acquireLease: true, None);
        Assert.Equal(CacheLookupStatus.Miss, lookup.Status);
        Assert.True(lookup.Lease.IsGranted);
        Assert.Equal(1, _store.FenceCount);

        Assert.True(await _store.FillAsync(1, lookup.Lease, CacheValue<string>.Of("loaded"), Options1Hour, None));

        Assert.Equal("loaded", await ValueOf(1));
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Miss_without_lease_asked_grants_none_and_fill_with_no_lease_stores_nothing()
    {
        var lookup = await _store.GetAsync(1, acquireLease: false, None);

        Assert.False(lookup.Lease.IsGranted);
        Assert.False(await _store.FillAsync(1, CacheLease.None, CacheValue<string>.Of("x"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Invalidate_revokes_an_outstanding_lease()
    {
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;

        await _store.InvalidateAsync(1, None);

        Assert.False(await _store.FillAsync(1, lease, CacheValue<string>.Of("stale load"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Set_revokes_an_outstanding_lease_and_its_value_stays()
    {
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;

        await _store.SetAsync(1, CacheValue<string>.Of("set"), Options1Hour, None);

        Assert.False(await _store.FillAsync(1, lease, CacheValue<string>.Of("stale load"), Options1Hour, None));
        Assert.Equal("set", await ValueOf(1));
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task BeginWrite_revokes_an_outstanding_lease()
    {
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;

        var write = await _store.BeginWriteAsync(1, None);

        Assert.False(await _store.FillAsync(1, lease, CacheValue<string>.Of("stale load"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);

        Assert.True(await _store.CompleteWriteAsync(1, write, CacheValue<string>.Of("written"), Options1Hour, None));
        Assert.Equal("written", await ValueOf(1));
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Lease_granted_while_a_write_is_in_progress_cannot_fill()
    {
        var write = await _store.BeginWriteAsync(1, None);
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;

        Assert.False(await _store.FillAsync(1, lease, CacheValue<string>.Of("read during the write"), Options1Hour, None));
        await _store.AbortWriteAsync(1, write, None);

        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Completion_of_a_write_revokes_a_lease_granted_before_it()
    {
        var write = await _store.BeginWriteAsync(1, None);
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;
        await _store.CompleteWriteAsync(1, write, CacheValue<string>.Of("written"), Options1Hour, None);

        Assert.False(await _store.FillAsync(1, lease, CacheValue<string>.Of("read during the write"), Options1Hour, None));
        Assert.Equal("written", await ValueOf(1));
    }

    [Fact]
    public async Task CompleteWrite_of_the_only_and_latest_write_stores()
    {
        await _store.SetAsync(1, CacheValue<string>.Of("before"), Options1Hour, None);
        var write = await _store.BeginWriteAsync(1, None);

        var stored = await _store.CompleteWriteAsync(1, write, CacheValue<string>.Of("after"), Options1Hour, None);

        Assert.True(stored);
        Assert.Equal("after", await ValueOf(1));
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task CompleteWrite_with_another_write_still_in_progress_removes_the_key()
    {
        await _store.SetAsync(1, CacheValue<string>.Of("before"), Options1Hour, None);
        var first = await _store.BeginWriteAsync(1, None);
        var second = await _store.BeginWriteAsync(1, None);

        Assert.False(await _store.CompleteWriteAsync(1, first, CacheValue<string>.Of("first"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);

        // The database may have applied the two writes in either order: the later completion removes too.
        Assert.False(await _store.CompleteWriteAsync(1, second, CacheValue<string>.Of("second"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task CompleteWrite_of_an_older_write_after_a_newer_one_completed_removes_the_key()
    {
        var older = await _store.BeginWriteAsync(1, None);
        var newer = await _store.BeginWriteAsync(1, None);
        await _store.AbortWriteAsync(1, newer, None);

        Assert.False(await _store.CompleteWriteAsync(1, older, CacheValue<string>.Of("older"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task CompleteWrite_after_an_invalidation_during_the_write_removes_the_key()
    {
        var write = await _store.BeginWriteAsync(1, None);
        await _store.InvalidateAsync(1, None);

        Assert.False(await _store.CompleteWriteAsync(1, write, CacheValue<string>.Of("written"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task CompleteWrite_after_a_set_during_the_write_removes_the_key()
    {
        var write = await _store.BeginWriteAsync(1, None);
        await _store.SetAsync(1, CacheValue<string>.Of("set meanwhile"), Options1Hour, None);

        Assert.False(await _store.CompleteWriteAsync(1, write, CacheValue<string>.Of("written"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
    }

    [Fact]
    public async Task AbortWrite_removes_the_key()
    {
        await _store.SetAsync(1, CacheValue<string>.Of("before"), Options1Hour, None);
        var write = await _store.BeginWriteAsync(1, None);

        await _store.AbortWriteAsync(1, write, None);

        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Unregistered_write_token_only_invalidates()
    {
        await _store.SetAsync(1, CacheValue<string>.Of("before"), Options1Hour, None);

        Assert.False(await _store.CompleteWriteAsync(1, CacheWriteToken.None, CacheValue<string>.Of("written"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
    }

    [Fact]
    public async Task Released_leases_leave_no_fence_behind()
    {
        var leases = new List<CacheLease>();
        for (var key = 0; key < 200; key++)
        {
            leases.Add((await _store.GetAsync(key, acquireLease: true, None)).Lease);
            leases.Add((await _store.GetAsync(key, acquireLease: true, None)).Lease);
        }

        Assert.Equal(200, _store.FenceCount);

        for (var key = 0; key < 200; key++)
        {
            await _store.ReleaseLeaseAsync(key, leases[2 * key], None);
            Assert.True(await _store.FillAsync(key, leases[(2 * key) + 1], CacheValue<string>.Of($"v{key}"), Options1Hour, None));
        }

        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task Fence_outlives_the_first_of_two_leases_and_an_invalidation_still_revokes_the_second()
    {
        var a = (await _store.GetAsync(1, acquireLease: true, None)).Lease;
        var b = (await _store.GetAsync(1, acquireLease: true, None)).Lease;

        Assert.True(await _store.FillAsync(1, a, CacheValue<string>.Of("a"), Options1Hour, None));
        Assert.Equal(1, _store.FenceCount);
        await _store.InvalidateAsync(1, None);

        Assert.False(await _store.FillAsync(1, b, CacheValue<string>.Of("b"), Options1Hour, None));
        Assert.Equal(CacheLookupStatus.Miss, (await _store.GetAsync(1, false, None)).Status);
        Assert.Equal(0, _store.FenceCount);
    }

    [Fact]
    public async Task GetMany_with_one_invalid_key_throws_without_leaking_leases_of_the_others()
    {
        using var provider = new MemoryCacheProvider(Options.Create(new MemoryCacheProviderOptions { MaxKeyLength = 8 }), new FakeTimeProvider());
        var store = (MemoryCacheStore<string, string>)provider.CreateStore(new CacheStoreDescriptor<string, string>("fencing", "f:", new MarkedStringSerializer()));

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await store.GetManyAsync(["a", "b", "much too long"], acquireLeases: true, None));

        Assert.Contains("much too", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.FenceCount);
    }

    [Fact]
    public async Task Negative_entry_is_a_hit_without_a_value()
    {
        var lease = (await _store.GetAsync(1, acquireLease: true, None)).Lease;
        await _store.FillAsync(1, lease, CacheValue<string>.NotFound, Options1Hour, None);

        var lookup = await _store.GetAsync(1, acquireLease: true, None);

        Assert.Equal(CacheLookupStatus.Hit, lookup.Status);
        Assert.False(lookup.Value.Exists);
        Assert.False(lookup.Lease.IsGranted);
        Assert.Equal(0, _store.FenceCount);
    }

    private async Task<string?> ValueOf(int key)
    {
        var lookup = await _store.GetAsync(key, acquireLease: false, None);
        Assert.Equal(CacheLookupStatus.Hit, lookup.Status);
        return lookup.Value.Value;
    }
}
