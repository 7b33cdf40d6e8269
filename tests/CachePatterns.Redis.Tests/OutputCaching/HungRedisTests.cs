using System.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests.OutputCaching;

/// <summary>
/// A Redis that hangs with its sockets open (SIGSTOP) under output caching and HybridCache: pages are still answered
/// (rendered), HybridCache calls are served by their factories, and evictions are not lost: they return (as
/// <c>RemoveAsync</c> for a key does), are remembered by the named cache's tag ledger and replayed, so after SIGCONT the
/// evicted entries are never served; pages are cached again.
/// </summary>
public sealed class HungRedisTests
{
    [Fact]
    public async Task While_Redis_hangs_pages_and_HybridCache_calls_are_answered_and_evictions_fail_loudly_then_caching_resumes()
    {
        var redis = await RedisServer.StartAsync();
        try
        {
            await using var app = await OutputCacheConformance.ShopApp.StartAsync(b => b
                .UseRedis(o =>
                {
                    o.Configuration = redis.Configuration;
                    o.InstanceName = "hang:";
                })
                .AddHybridCache());
            var hybrid = app.Services.GetRequiredService<HybridCache>();
            Assert.Equal("catalogue:1", await app.GetAsync("/catalogue"));
            Assert.Equal("catalogue:1", await app.GetAsync("/catalogue"));
            Assert.Equal("v1", await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), tags: ["t"]));

            redis.Pause();
            try
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < 3; i++)
                {
                    Assert.StartsWith("catalogue:", await app.GetAsync("/catalogue"), StringComparison.Ordinal);
                }

                Assert.Equal("from the factory", await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("from the factory"), tags: ["t"]));
                await app.Store.EvictByTagAsync("products", CancellationToken.None);
                await hybrid.RemoveByTagAsync("t");
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"The calls during the hang took {watch.Elapsed}.");
            }
            finally
            {
                redis.Resume();
            }

            // The removal by tag made during the hang is not lost: the entry cached before it is never served again.
            Assert.Equal("after", await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("after"), tags: ["t"]));
            await Wait.UntilAsync(
                async () =>
                {
                    var renders = app.Renders("catalogue");
                    await app.GetAsync("/catalogue");
                    await app.GetAsync("/catalogue");
                    return app.Renders("catalogue") <= renders + 1;
                },
                TimeSpan.FromSeconds(30),
                "the catalogue page is served from the cache again");
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
