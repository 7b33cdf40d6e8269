using System.Diagnostics;
using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>Bad or extreme input: TTLs memcached cannot represent, keys that are not valid UTF-16, keys that look like the provider's own.</summary>
public sealed class InputLimitTests(MemcachedFixture fixture) : IClassFixture<MemcachedFixture>
{
    private static readonly StoreEntryOptions FiveMinutes = new(TimeSpan.FromMinutes(5));

    private MemcachedCacheProvider CreateProvider(TimeProvider? time = null, Action<MemcachedCacheProviderOptions>? configure = null) =>
        new(Options.Create(Clients.Options([fixture.Server.Address], configure)), time);

    private static ICacheStore<string, string> Store(MemcachedCacheProvider provider) =>
        provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));

    private static string NewKey() => Guid.NewGuid().ToString("N");

    [Theory]
    [InlineData(365 * 12)]
    [InlineData(365 * 100)]
    [InlineData(-1)]
    public async Task Ttl_beyond_what_memcached_can_represent_is_clamped_and_the_value_is_cached(int days)
    {
        using var provider = CreateProvider();
        var store = Store(provider);
        var key = NewKey();
        var ttl = days < 0 ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
        await store.SetAsync(key, CacheValue<string>.Of("long-lived"), new StoreEntryOptions(ttl), default);
        Assert.Equal("long-lived", (await store.GetAsync(key, false, default)).Value.Value);

        using var raw = Clients.Create([fixture.Server.Address]);
        var remaining = (await raw.GetAsync("Test:" + key, "t", default)).Ttl;
        Assert.InRange(remaining, 1, int.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5); // memcached's clock lags by up to a second or two
    }

    [Fact]
    public async Task Keys_with_lone_surrogates_are_refused_naming_the_key_instead_of_colliding()
    {
        using var provider = CreateProvider();
        var store = Store(provider);
        foreach (var key in new[] { "a\uD800", "a\uDFFF", "\uDC00b" })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.SetAsync(key, CacheValue<string>.Of("v"), FiveMinutes, default));
            Assert.Contains("lone surrogate", error.Message, StringComparison.Ordinal);
            Assert.Contains(key.Replace("\uD800", "\\uD800", StringComparison.Ordinal).Replace("\uDFFF", "\\uDFFF", StringComparison.Ordinal).Replace("\uDC00", "\\uDC00", StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetAsync(key, true, default));
        }

        // A valid surrogate pair is a key like any other.
        await store.SetAsync("emoji \U0001F600", CacheValue<string>.Of("ok"), FiveMinutes, default);
        Assert.Equal("ok", (await store.GetAsync("emoji \U0001F600", false, default)).Value.Value);
    }

    [Fact]
    public async Task Application_keys_cannot_reach_the_providers_own_items()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = CreateProvider(time);
        var store = Store(provider);
        var key = NewKey();
        var retained = new StoreEntryOptions(TimeSpan.FromMinutes(1), null, TimeSpan.FromMinutes(10));

        // An application key that ends like the refresh claim of another key used to be that claim.
        await store.SetAsync(key, CacheValue<string>.Of("old"), retained, default);
        await store.SetAsync(key + "|refresh", CacheValue<string>.Of("an application value"), FiveMinutes, default);
        time.Advance(TimeSpan.FromMinutes(2));
        var stale = await store.GetAsync(key, true, default);
        Assert.Equal((CacheLookupStatus.Stale, true), (stale.Status, stale.Lease.IsGranted));
        Assert.True(await store.FillAsync(key, stale.Lease, CacheValue<string>.Of("new"), FiveMinutes, default));
        Assert.Equal("an application value", (await store.GetAsync(key + "|refresh", false, default)).Value.Value);

        // A key that spells out another key's hashed form is not that key.
        var longKey = new string('l', 300);
        await store.SetAsync(longKey, CacheValue<string>.Of("long"), FiveMinutes, default);
        var hashedForm = Encoding.Latin1.GetString(provider.Client.EncodeKey("Test:" + longKey)).Substring(1 + "Test:".Length);
        await store.SetAsync(hashedForm, CacheValue<string>.Of("look-alike"), FiveMinutes, default);
        Assert.Equal("long", (await store.GetAsync(longKey, false, default)).Value.Value);
    }

    [Fact]
    public async Task Sliding_window_never_ends_early()
    {
        // memcached's clock ticks once a second: a window sent as T1 lasted 0.18-0.87 s. Each read below comes less
        // than the 1 s window after the previous one began, so each must hit (and renew the window).
        using var provider = CreateProvider();
        var store = Store(provider);
        var key = NewKey();
        var sliding = new StoreEntryOptions(null, TimeSpan.FromSeconds(1));
        var previous = Stopwatch.GetTimestamp();
        await store.SetAsync(key, CacheValue<string>.Of("s"), sliding, default);
        var judged = 0;
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(800));
            var started = Stopwatch.GetTimestamp();
            var lookup = await store.GetAsync(key, false, default);
            var sincePreviousTouch = Stopwatch.GetElapsedTime(previous);
            previous = started;
            if (sincePreviousTouch >= TimeSpan.FromSeconds(1))
            {
                // A loaded machine slept too long to judge this one; the window may have ended.
                if (lookup.Status != CacheLookupStatus.Hit)
                {
                    await store.SetAsync(key, CacheValue<string>.Of("s"), sliding, default);
                }

                continue;
            }

            judged++;
            Assert.True(lookup.Status == CacheLookupStatus.Hit, $"read {i} came {sincePreviousTouch.TotalMilliseconds:F0} ms after the previous touch of a 1 s window and missed");
        }

        Assert.True(judged >= 2, $"only {judged} reads came within the window; the machine is too slow to judge");
    }
}
