using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Memory;

/// <summary>A byte bound works without a size function: values are measured by their serialized length.</summary>
public sealed class MaxBytesWithoutSizeFunctionTests
{
    [Fact]
    public async Task The_ad_hoc_cache_honours_MaxBytes_by_serialized_length()
    {
        using var host = TestCacheHost.Create(b => b.UseMemoryProvider(o => o.MaxBytes = 200));
        var cache = host.Services.GetRequiredService<ICache>();

        // Each value serializes to 52 bytes of JSON ("…" plus 50 characters): at most three fit in 200 bytes.
        for (var i = 0; i < 10; i++)
        {
            await cache.SetAsync($"k{i}", new string((char)('a' + i), 50));
        }

        var held = 0;
        for (var i = 0; i < 10; i++)
        {
            held += (await cache.TryGetAsync<string>($"k{i}")).Found ? 1 : 0;
        }

        Assert.InRange(held, 1, 3);
        Assert.True((await cache.TryGetAsync<string>("k9")).Found, "The most recent value should be kept.");
    }
}
