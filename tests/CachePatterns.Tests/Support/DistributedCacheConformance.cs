using Microsoft.Extensions.Caching.Distributed;

namespace CachePatterns.Tests.Support;

/// <summary>
/// What .NET users expect of an <see cref="IDistributedCache"/>, after Microsoft's behavioural tests of <c>RedisCache</c>
/// (aspnetcore src/Caching/StackExchangeRedis/test: set/remove, time expiration sync and async) and the provider-neutral
/// <c>DistributedCacheTests</c> (src/Caching/Hybrid/test), in our own code, run on every provider: memory (fake clock),
/// Redis and memcached (real servers, real time). Deliberate differences from <c>RedisCache</c> are listed in
/// docs/providers.md ("IDistributedCache conformance").
/// </summary>
public abstract class DistributedCacheConformance
{
    private static readonly DistributedCacheEntryOptions FiveMinutes = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

    /// <summary>The cache under test (a fresh key namespace per test class instance).</summary>
    protected abstract IDistributedCache Cache { get; }

    /// <summary>Now, on the clock the cache judges <see cref="DistributedCacheEntryOptions.AbsoluteExpiration"/> by.</summary>
    protected abstract DateTimeOffset Now { get; }

    /// <summary>Whether <see cref="PassAsync"/> moves a fake clock (exact) rather than waiting in real time.</summary>
    protected abstract bool FakeClock { get; }

    /// <summary>Lets <paramref name="time"/> pass: a fake clock advances, a real one is waited for.</summary>
    protected abstract Task PassAsync(TimeSpan time);

    [Fact]
    public void Get_of_a_missing_key_is_null()
    {
        Assert.Null(Cache.Get("never-set"));
    }

    [Fact]
    public async Task GetAsync_of_a_missing_key_is_null()
    {
        Assert.Null(await Cache.GetAsync("never-set"));
    }

    [Fact]
    public void Set_then_Get_returns_the_bytes()
    {
        byte[] value = [42];
        Cache.Set("one", value, FiveMinutes);

        Assert.Equal(value, Cache.Get("one"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(128)]
    [InlineData(1024)]
    [InlineData(16 * 1024)]
    [InlineData(900 * 1024)]
    public async Task Values_of_every_size_round_trip_byte_for_byte_sync_and_async(int size)
    {
        var value = new byte[size];
        Random.Shared.NextBytes(value);
        var key = $"size:{size}";

        Cache.Set(key, value, FiveMinutes);
        Assert.Equal(value, Cache.Get(key));
        await Cache.RemoveAsync(key);
        Assert.Null(await Cache.GetAsync(key));
        await Cache.SetAsync(key, value, FiveMinutes);
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    [InlineData(16 * 1024)]
    public async Task As_an_IBufferDistributedCache_sequences_of_several_segments_round_trip(int size)
    {
        var buffers = Assert.IsAssignableFrom<IBufferDistributedCache>(Cache);
        var value = new byte[size];
        Random.Shared.NextBytes(value);
        var sequence = Segments(value);
        var key = $"buffer:{size}";

        buffers.Set(key, sequence, FiveMinutes);
        var written = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(buffers.TryGet(key, written));
        Assert.True(written.WrittenSpan.SequenceEqual(value));

        await buffers.SetAsync(key, sequence, FiveMinutes);
        written = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(await buffers.TryGetAsync(key, written));
        Assert.True(written.WrittenSpan.SequenceEqual(value));

        await buffers.RemoveAsync(key);
        Assert.False(await buffers.TryGetAsync(key, written = new System.Buffers.ArrayBufferWriter<byte>()));
        Assert.Equal(0, written.WrittenCount);
    }

    [Fact]
    public void Keys_are_case_sensitive()
    {
        byte[] value = [1];
        Cache.Set("myKey", value, FiveMinutes);

        Assert.Equal(value, Cache.Get("myKey"));
        Assert.Null(Cache.Get("Mykey"));
        Assert.Null(Cache.Get("MYKEY"));
    }

    [Fact]
    public void Set_always_overwrites()
    {
        Cache.Set("over", [1], FiveMinutes);
        Assert.Equal(new byte[] { 1 }, Cache.Get("over"));

        Cache.Set("over", [2], FiveMinutes);
        Assert.Equal(new byte[] { 2 }, Cache.Get("over"));
    }

    [Fact]
    public async Task Remove_removes_sync_and_async()
    {
        Cache.Set("gone", [1], FiveMinutes);
        Assert.NotNull(Cache.Get("gone"));
        Cache.Remove("gone");
        Assert.Null(Cache.Get("gone"));

        await Cache.SetAsync("gone", [2], FiveMinutes);
        await Cache.RemoveAsync("gone");
        Assert.Null(await Cache.GetAsync("gone"));

        // Removing what is not there is no error.
        await Cache.RemoveAsync("gone");
    }

    [Fact]
    public void A_null_value_or_key_throws_ArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Cache.Set("k", null!, FiveMinutes));
        Assert.Throws<ArgumentNullException>(() => Cache.Set(null!, [1], FiveMinutes));
        Assert.Throws<ArgumentNullException>(() => Cache.Get(null!));
    }

    [Fact]
    public async Task The_empty_key_is_a_key_like_any_other()
    {
        await Cache.SetAsync(string.Empty, [7], FiveMinutes);

        Assert.Equal(new byte[] { 7 }, await Cache.GetAsync(string.Empty));
        Assert.Null(await Cache.GetAsync(" "));
        await Cache.RemoveAsync(string.Empty);
        Assert.Null(await Cache.GetAsync(string.Empty));
    }

    [Fact]
    public async Task An_absolute_expiration_in_the_past_throws_naming_AbsoluteExpiration_and_stores_nothing()
    {
        var past = Now - TimeSpan.FromMinutes(1);

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Cache.SetAsync("past", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = past }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set("past", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = past }));

        Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), ex.ParamName);
        Assert.StartsWith("The absolute expiration value must be in the future.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(past, ex.ActualValue);
        Assert.Null(await Cache.GetAsync("past"));
    }

    [Fact]
    public async Task A_relative_expiration_expires()
    {
        byte[] value = [1];
        await Cache.SetAsync("relative", value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });

        Assert.Equal(value, await Cache.GetAsync("relative"));
        await ExpiresWithinAsync("relative", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task An_absolute_expiration_expires()
    {
        byte[] value = [1];
        Cache.Set("absolute", value, new DistributedCacheEntryOptions { AbsoluteExpiration = Now + TimeSpan.FromSeconds(1) });

        Assert.Equal(value, Cache.Get("absolute"));
        await ExpiresWithinAsync("absolute", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_sliding_expiration_expires_if_not_accessed()
    {
        byte[] value = [1];
        await Cache.SetAsync("idle", value, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(1) });
        Assert.Equal(value, await Cache.GetAsync("idle"));

        await PassAsync(TimeSpan.FromSeconds(FakeClock ? 1 : 3));

        Assert.Null(await Cache.GetAsync("idle"));
    }

    [Fact]
    public async Task A_sliding_expiration_is_renewed_by_each_read()
    {
        byte[] value = [1];
        var window = TimeSpan.FromSeconds(1.5);
        await Cache.SetAsync("renewed", value, new DistributedCacheEntryOptions { SlidingExpiration = window });

        // Five reads half a second apart: 2.5 s in all, longer than the window, each within it of the last.
        for (var i = 0; i < 5; i++)
        {
            await PassAsync(TimeSpan.FromSeconds(0.5));
            Assert.Equal(value, await Cache.GetAsync("renewed"));
        }

        await PassAsync(FakeClock ? window : window + TimeSpan.FromSeconds(1.5));
        Assert.Null(await Cache.GetAsync("renewed"));
    }

    [Fact]
    public async Task A_sliding_expiration_is_renewed_by_Refresh_without_reading()
    {
        byte[] value = [1];
        var window = TimeSpan.FromSeconds(1.5);
        Cache.Set("refreshed", value, new DistributedCacheEntryOptions { SlidingExpiration = window });

        for (var i = 0; i < 5; i++)
        {
            await PassAsync(TimeSpan.FromSeconds(0.5));
            if (i % 2 == 0)
            {
                Cache.Refresh("refreshed");
            }
            else
            {
                await Cache.RefreshAsync("refreshed");
            }
        }

        await PassAsync(TimeSpan.FromSeconds(0.5));
        Assert.Equal(value, await Cache.GetAsync("refreshed"));
    }

    [Fact]
    public async Task A_sliding_expiration_is_renewed_only_until_the_absolute_expiration()
    {
        byte[] value = [1];
        await Cache.SetAsync("capped", value, new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromSeconds(1.5),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(3),
        });

        for (var i = 0; i < 4; i++)
        {
            await PassAsync(TimeSpan.FromSeconds(0.5));
            Assert.Equal(value, await Cache.GetAsync("capped"));
        }

        // 2 s passed; reads keep the sliding window open, but the absolute deadline at 3 s ends it.
        await ExpiresWithinAsync("capped", TimeSpan.FromSeconds(1));
    }

    /// <summary>The bytes as a sequence of three segments (one when too short to split).</summary>
    private static System.Buffers.ReadOnlySequence<byte> Segments(byte[] value)
    {
        if (value.Length < 3)
        {
            return new System.Buffers.ReadOnlySequence<byte>(value);
        }

        var third = value.Length / 3;
        var first = new Segment(value.AsMemory(0, third), 0);
        var last = first.Append(value.AsMemory(third, third)).Append(value.AsMemory(2 * third));
        return new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>
    /// The entry is gone once <paramref name="remaining"/> has passed: exactly then on a fake clock; on a real one, read
    /// (without sliding) every 250 ms for up to three seconds more.
    /// </summary>
    private async Task ExpiresWithinAsync(string key, TimeSpan remaining)
    {
        await PassAsync(remaining);
        if (FakeClock)
        {
            Assert.Null(await Cache.GetAsync(key));
            return;
        }

        for (var i = 0; i < 12 && await Cache.GetAsync(key) is not null; i++)
        {
            await PassAsync(TimeSpan.FromMilliseconds(250));
        }

        Assert.Null(await Cache.GetAsync(key));
    }
}
