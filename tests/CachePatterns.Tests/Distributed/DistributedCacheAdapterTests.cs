using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Distributed;

public sealed class DistributedCacheAdapterTests : IDisposable
{
    private static readonly byte[] Payload = [1, 2, 3, 4];

    private readonly TestCacheHost _host = TestCacheHost.Create(b => b
        .UseMemoryProvider(o => o.MaxValueBytes = 64)
        .AddDistributedCache());

    private IDistributedCache Cache => _host.Services.GetRequiredService<IDistributedCache>();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Set_then_Get_returns_the_bytes()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions());

        Assert.Equal(Payload, Cache.Get("k"));
        Assert.Null(Cache.Get("missing"));
    }

    [Fact]
    public async Task SetAsync_then_GetAsync_returns_the_bytes_and_a_second_set_replaces_them()
    {
        await Cache.SetAsync("k", Payload, new DistributedCacheEntryOptions());
        await Cache.SetAsync("k", [9], new DistributedCacheEntryOptions());

        Assert.Equal([9], await Cache.GetAsync("k"));
    }

    [Fact]
    public async Task Remove_deletes_the_entry()
    {
        Cache.Set("a", Payload, new DistributedCacheEntryOptions());
        await Cache.SetAsync("b", Payload, new DistributedCacheEntryOptions());

        Cache.Remove("a");
        await Cache.RemoveAsync("b");

        Assert.Null(Cache.Get("a"));
        Assert.Null(await Cache.GetAsync("b"));
    }

    [Fact]
    public void Entry_without_expiration_does_not_expire()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions());

        _host.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(Payload, Cache.Get("k"));
    }

    [Fact]
    public void AbsoluteExpiration_in_the_past_or_now_throws_and_stores_nothing()
    {
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = _host.Time.GetUtcNow().AddSeconds(-1) };
        var now = new DistributedCacheEntryOptions { AbsoluteExpiration = _host.Time.GetUtcNow() };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set("k", Payload, past));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set("k", Payload, now));

        Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), ex.ParamName);
        Assert.Contains("must be in the future", ex.Message, StringComparison.Ordinal);
        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void AbsoluteExpiration_expires_at_that_instant()
    {
        var options = new DistributedCacheEntryOptions { AbsoluteExpiration = _host.Time.GetUtcNow().AddMinutes(10) };
        Cache.Set("k", Payload, options);

        _host.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.Equal(Payload, Cache.Get("k"));
        _host.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void AbsoluteExpirationRelativeToNow_expires_after_that_duration()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(30) });

        _host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(Payload, Cache.Get("k"));
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void Earlier_of_absolute_and_relative_expiration_wins()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions
        {
            AbsoluteExpiration = _host.Time.GetUtcNow().AddHours(1),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1),
        });

        _host.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public async Task Sliding_expiration_is_renewed_by_Get()
    {
        await Cache.SetAsync("k", Payload, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        for (var i = 0; i < 5; i++)
        {
            _host.Time.Advance(TimeSpan.FromSeconds(50));
            Assert.Equal(Payload, await Cache.GetAsync("k"));
        }

        _host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await Cache.GetAsync("k"));
    }

    [Fact]
    public async Task Sliding_expiration_is_renewed_by_Refresh_without_reading()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        for (var i = 0; i < 3; i++)
        {
            _host.Time.Advance(TimeSpan.FromSeconds(50));
            Cache.Refresh("k");
            _host.Time.Advance(TimeSpan.FromSeconds(50));
            await Cache.RefreshAsync("k");
        }

        _host.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(Payload, Cache.Get("k"));
        _host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void Refresh_does_not_revive_an_expired_entry()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        _host.Time.Advance(TimeSpan.FromMinutes(1));
        Cache.Refresh("k");

        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void Sliding_expiration_does_not_outlive_the_absolute_expiration()
    {
        Cache.Set("k", Payload, new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(1),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(2),
        });

        _host.Time.Advance(TimeSpan.FromSeconds(50));
        Cache.Refresh("k");
        _host.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(Payload, Cache.Get("k"));
        _host.Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Null(Cache.Get("k"));
    }

    [Fact]
    public void Value_over_MaxValueBytes_throws_CacheValueTooLargeException_and_leaves_the_previous_value()
    {
        Cache.Set("big", Payload, new DistributedCacheEntryOptions());

        var ex = Assert.Throws<CacheValueTooLargeException>(() => Cache.Set("big", new byte[65], new DistributedCacheEntryOptions()));

        Assert.Equal(65, ex.Size);
        Assert.Equal(64, ex.Limit);
        Assert.Contains("big", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Payload, Cache.Get("big"));
        Cache.Set("big", new byte[64], new DistributedCacheEntryOptions());
        Assert.Equal(64, Cache.Get("big")!.Length);
    }

    [Fact]
    public async Task Null_key_and_value_are_refused_an_empty_key_is_a_key()
    {
        Assert.Throws<ArgumentNullException>(() => Cache.Get(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(null!, Payload, new DistributedCacheEntryOptions()));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync("k", null!, new DistributedCacheEntryOptions()));
        Assert.Null(await Cache.GetAsync("k"));

        // As RedisCache: the empty string is a key like any other.
        await Cache.SetAsync(string.Empty, Payload, new DistributedCacheEntryOptions());
        Assert.Equal(Payload, await Cache.GetAsync(string.Empty));
        await Cache.RemoveAsync(string.Empty);
        Assert.Null(await Cache.GetAsync(string.Empty));
    }
}
