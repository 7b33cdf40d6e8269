using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Distributed;

/// <summary>The IDistributedCache expectations on the in-memory provider, on a fake clock.</summary>
public sealed class MemoryDistributedCacheConformanceTests : DistributedCacheConformance, IDisposable
{
    private readonly TestCacheHost _host = TestCacheHost.Create(b => b.AddDistributedCache());

    protected override IDistributedCache Cache => _host.Services.GetRequiredService<IDistributedCache>();

    protected override DateTimeOffset Now => _host.Time.GetUtcNow();

    protected override bool FakeClock => true;

    protected override Task PassAsync(TimeSpan time)
    {
        _host.Time.Advance(time);
        return Task.CompletedTask;
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_sub_second_expiration_is_honoured_not_rounded_down_to_zero()
    {
        byte[] value = [1];
        await Cache.SetAsync("short", value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(250) });
        await Cache.SetAsync("short-sliding", value, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMilliseconds(250) });

        Assert.Equal(value, await Cache.GetAsync("short"));
        Assert.Equal(value, await Cache.GetAsync("short-sliding"));
        await PassAsync(TimeSpan.FromMilliseconds(250));
        Assert.Null(await Cache.GetAsync("short"));
        Assert.Null(await Cache.GetAsync("short-sliding"));
    }
}
