using System.Diagnostics;
using CachePatterns.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Tags with the near cache on (docs/architecture.md, "Tags", "Tags in the near cache"): a tag invalidation drops the copies
/// carrying the tag — at once in the invalidating process, on the provider's tag message in the others. Without that, a
/// tagged query served from process memory outlived its tag's invalidation.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisNearCacheTagTests(RedisServer redis)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_tag_invalidation_drops_near_cache_copies_here_at_once_and_in_the_other_process()
    {
        var instance = redis.NewInstanceName();
        await using var a = Container(instance);
        await using var b = Container(instance);
        var cacheA = a.GetRequiredService<ICache>();
        var cacheB = b.GetRequiredService<ICache>();
        using var nearHitsA = new MetricCollector<long>(a.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.NearHits);

        await ServedFromMemoryAsync(cacheA, nearHitsA);
        await cacheB.InvalidateTagAsync("category:5");
        await Wait.UntilAsync(async () => !(await cacheA.TryGetAsync<string>("page:5")).Found, Bound, "A's copy goes on B's tag invalidation");

        await ServedFromMemoryAsync(cacheA, nearHitsA);
        await cacheA.InvalidateTagAsync("category:5");
        Assert.False((await cacheA.TryGetAsync<string>("page:5")).Found);
    }

    /// <summary>Caches the tagged query and reads it until a read is answered from process memory.</summary>
    private static async Task ServedFromMemoryAsync(ICache cache, MetricCollector<long> nearHits)
    {
        var clock = Stopwatch.StartNew();
        var before = nearHits.GetMeasurementSnapshot().Sum(m => m.Value);
        while (nearHits.GetMeasurementSnapshot().Sum(m => m.Value) == before)
        {
            Assert.True(clock.Elapsed < Bound, "the near cache never served the tagged query");
            await cache.GetOrLoadAsync("page:5", _ => ValueTask.FromResult("products of 5"), new CacheEntryOptions { Tags = ["category:5"] });
            await Task.Delay(10);
        }
    }

    private ServiceProvider Container(string instance) =>
        new ServiceCollection()
            .AddMetrics()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })
            .WithNearCache()
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .Services.BuildServiceProvider();
}
