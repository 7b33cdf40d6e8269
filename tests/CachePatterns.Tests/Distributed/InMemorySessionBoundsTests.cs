using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Distributed;

/// <summary>On the in-memory provider the IDistributedCache entries have a bound of their own (AddDistributedCache's MaxEntries).</summary>
public sealed class InMemorySessionBoundsTests
{
    [Fact]
    public async Task Sessions_have_their_own_bound_so_a_flood_of_entity_reads_cannot_evict_them()
    {
        using var host = TestCacheHost.CacheAside(builder: b => b
            .UseMemoryProvider(o => o.MaxEntries = 100)
            .AddDistributedCache(o => o.MaxEntries = 1_000));
        for (var i = 0; i < 500; i++)
        {
            host.Database.Seed(i, "row " + i);
        }

        var cache = host.Services.GetRequiredService<IDistributedCache>();
        for (var i = 0; i < 500; i++)
        {
            await cache.SetAsync("session-" + i, [(byte)i], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) });
        }

        for (var i = 0; i < 500; i++)
        {
            Assert.Equal("row " + i, await host.Strategy.GetAsync(i));
        }

        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(new byte[] { (byte)i }, await cache.GetAsync("session-" + i));
        }
    }

    [Fact]
    public async Task The_bound_is_the_sessions_own_the_least_recently_used_go_first()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.MaxEntries = 100_000)
            .AddDistributedCache(o => o.MaxEntries = 50));
        var cache = host.Services.GetRequiredService<IDistributedCache>();
        await cache.SetAsync("signed-in", [1], new DistributedCacheEntryOptions());
        for (var i = 0; i < 200; i++)
        {
            await cache.SetAsync("anonymous-" + i, [2], new DistributedCacheEntryOptions());

            // The signed-in user keeps using the session: it stays among the most recently used.
            Assert.Equal([1], await cache.GetAsync("signed-in"));
        }

        var kept = 0;
        for (var i = 0; i < 200; i++)
        {
            kept += await cache.GetAsync("anonymous-" + i) is null ? 0 : 1;
        }

        Assert.InRange(kept, 1, 50);
    }
}
