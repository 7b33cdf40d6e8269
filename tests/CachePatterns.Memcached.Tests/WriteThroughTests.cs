using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Write-through completions on memcached, with two provider instances (two processes) racing: a completion stores only
/// as the sole and latest write of its key; every other interleaving ends with the key removed (docs/providers.md lists them).
/// </summary>
public sealed class WriteThroughTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private static readonly StoreEntryOptions FiveMinutes = new(TimeSpan.FromMinutes(5));

    private MemcachedCacheProvider CreateProvider(Action<MemcachedCacheProviderOptions>? configure = null) =>
        new(Options.Create(Clients.Options(fixture.Addresses, configure)));

    private static ICacheStore<string, string> Store(MemcachedCacheProvider provider) =>
        provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));

    private static string NewKey() => Guid.NewGuid().ToString("N");

    private static async Task AssertMissing(ICacheStore<string, string> store, string key) =>
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);

    [Fact]
    public async Task Sole_write_stores_its_value_and_blocks_fills_while_in_flight()
    {
        using var first = CreateProvider();
        using var second = CreateProvider();
        var a = Store(first);
        var b = Store(second);
        var key = NewKey();
        await a.SetAsync(key, CacheValue<string>.Of("before"), FiveMinutes, default);
        var earlier = await b.GetAsync(NewKey(), true, default); // unrelated lease, must stay valid
        var leased = NewKey();
        var lease = (await b.GetAsync(leased, true, default)).Lease;

        var token = await a.BeginWriteAsync(key, default);
        Assert.True(token.IsRegistered);
        await AssertMissing(b, key);
        Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await b.GetAsync(key, true, default)).Status);
        Assert.True(await a.CompleteWriteAsync(key, token, CacheValue<string>.Of("after"), FiveMinutes, default));
        Assert.Equal("after", (await b.GetAsync(key, false, default)).Value.Value);

        // A lease granted before the write begins is revoked by it.
        var write = await a.BeginWriteAsync(leased, default);
        Assert.False(await b.FillAsync(leased, lease, CacheValue<string>.Of("loaded before the write"), FiveMinutes, default));
        Assert.True(await a.CompleteWriteAsync(leased, write, CacheValue<string>.Of("written"), FiveMinutes, default));
        Assert.Equal("written", (await b.GetAsync(leased, false, default)).Value.Value);
        Assert.True(earlier.Lease.IsGranted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Overlapping_writes_from_two_clients_remove_the_key_in_either_completion_order(bool firstCompletesFirst)
    {
        using var first = CreateProvider();
        using var second = CreateProvider();
        var a = Store(first);
        var b = Store(second);
        var key = NewKey();

        var tokenA = await a.BeginWriteAsync(key, default);
        var tokenB = await b.BeginWriteAsync(key, default);
        if (firstCompletesFirst)
        {
            Assert.False(await a.CompleteWriteAsync(key, tokenA, CacheValue<string>.Of("A"), FiveMinutes, default));
            await AssertMissing(b, key);
            Assert.Equal(CacheLookupStatus.MissLeaseHeldElsewhere, (await b.GetAsync(key, true, default)).Status);
            Assert.False(await b.CompleteWriteAsync(key, tokenB, CacheValue<string>.Of("B"), FiveMinutes, default));
        }
        else
        {
            Assert.False(await b.CompleteWriteAsync(key, tokenB, CacheValue<string>.Of("B"), FiveMinutes, default));
            Assert.False(await a.CompleteWriteAsync(key, tokenA, CacheValue<string>.Of("A"), FiveMinutes, default));
        }

        await AssertMissing(a, key);
        Assert.True((await a.GetAsync(key, true, default)).Lease.IsGranted); // nothing left blocking fills

        // An abort overlapping a write also keeps the other from storing.
        tokenA = await a.BeginWriteAsync(key, default);
        tokenB = await b.BeginWriteAsync(key, default);
        await a.AbortWriteAsync(key, tokenA, default);
        Assert.False(await b.CompleteWriteAsync(key, tokenB, CacheValue<string>.Of("B"), FiveMinutes, default));
        await AssertMissing(a, key);
    }

    [Fact]
    public async Task Invalidation_or_set_during_a_write_makes_its_completion_remove()
    {
        using var first = CreateProvider();
        using var second = CreateProvider();
        var a = Store(first);
        var b = Store(second);

        var invalidated = NewKey();
        var token = await a.BeginWriteAsync(invalidated, default);
        await b.InvalidateAsync(invalidated, default);
        var lease = await b.GetAsync(invalidated, true, default); // a reader loads meanwhile (the old row)
        Assert.True(lease.Lease.IsGranted);
        Assert.False(await a.CompleteWriteAsync(invalidated, token, CacheValue<string>.Of("A"), FiveMinutes, default));
        Assert.False(await b.FillAsync(invalidated, lease.Lease, CacheValue<string>.Of("old row"), FiveMinutes, default));
        await AssertMissing(a, invalidated);

        var set = NewKey();
        token = await a.BeginWriteAsync(set, default);
        await b.SetAsync(set, CacheValue<string>.Of("S"), FiveMinutes, default);
        Assert.False(await a.CompleteWriteAsync(set, token, CacheValue<string>.Of("A"), FiveMinutes, default));
        await AssertMissing(b, set);
    }

    [Fact]
    public async Task Write_whose_registration_was_dropped_removes_what_a_later_write_stored()
    {
        using var first = CreateProvider();
        using var second = CreateProvider();
        var a = Store(first);
        var b = Store(second);
        var key = NewKey();

        // W0's marker is dropped (an invalidation, or WriteTimeout passing) while W0 is still writing the database.
        var w0 = await a.BeginWriteAsync(key, default);
        await b.InvalidateAsync(key, default);
        var w1 = await b.BeginWriteAsync(key, default);
        Assert.True(await b.CompleteWriteAsync(key, w1, CacheValue<string>.Of("W1"), FiveMinutes, default));
        Assert.Equal("W1", (await a.GetAsync(key, false, default)).Value.Value);

        // W0 may have committed after W1: its completion removes W1's value rather than trusting either.
        Assert.False(await a.CompleteWriteAsync(key, w0, CacheValue<string>.Of("W0"), FiveMinutes, default));
        await AssertMissing(b, key);

        // The same when W0's marker expired and W1 registered a fresh one that W0 then meets.
        w0 = await a.BeginWriteAsync(key, default);
        using var raw = Clients.Create(fixture.Addresses);
        await raw.DeleteAsync("Test:" + key, string.Empty, default); // what expiry does
        w1 = await b.BeginWriteAsync(key, default);
        Assert.False(await a.CompleteWriteAsync(key, w0, CacheValue<string>.Of("W0"), FiveMinutes, default));
        Assert.False(await b.CompleteWriteAsync(key, w1, CacheValue<string>.Of("W1"), FiveMinutes, default));
        await AssertMissing(a, key);
    }

    [Fact]
    public async Task Write_marker_lives_for_the_write_timeout_and_an_oversized_value_still_ends_the_write()
    {
        using var provider = CreateProvider(o =>
        {
            o.WriteTimeout = TimeSpan.FromSeconds(7);
            o.MaxItemSize = 1024;
        });
        var store = Store(provider);
        var key = NewKey();
        var token = await store.BeginWriteAsync(key, default);
        using var raw = Clients.Create(fixture.Addresses);
        var marker = await raw.GetAsync("Test:" + key, "v t", default);
        Assert.True(Envelope.IsMarker(marker.Value!));
        Assert.InRange(marker.Ttl, 1, 8);

        await Assert.ThrowsAsync<CacheValueTooLargeException>(async () =>
            await store.CompleteWriteAsync(key, token, CacheValue<string>.Of(new string('x', 2000)), FiveMinutes, default));
        Assert.Equal(MetaStatus.Miss, (await raw.GetAsync("Test:" + key, "v", default)).Status);
    }

    [Fact]
    public async Task Read_after_a_write_through_hits_without_loading()
    {
        var loads = 0;
        var rows = new Dictionary<int, string>();
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = $"wt{Guid.NewGuid():N}:";
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.WriteThrough, _ => new Rows(rows, () => loads++), _ => new Rows(rows, () => loads++))
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        await strategy.WriteAsync(1, "one");
        await strategy.WriteAsync(1, "uno");
        Assert.Equal("uno", await strategy.GetAsync(1));
        Assert.Equal(0, loads);
    }

    private sealed class Rows(Dictionary<int, string> rows, Action onLoad) : ICacheLoader<int, string>, ICacheWriter<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            onLoad();
            return ValueTask.FromResult(rows.TryGetValue(key, out var row) ? LoadResult.Found(row) : LoadResult.NotFound<string>());
        }

        public ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
        {
            rows[key] = value;
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
        {
            rows.Remove(key);
            return ValueTask.CompletedTask;
        }
    }
}
