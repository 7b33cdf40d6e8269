using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Tag invalidation across OS processes (a <c>CachePatterns.ConsistencyHost</c> child sharing the server): an
/// invalidation in either process makes the entry a miss in the other, and a load this process began before the other
/// process invalidated its tag is not stored (the fill is fenced; the flight loads again).
/// </summary>
public abstract class RedisCrossProcessTagContract(IRedisTarget redis)
{
    [Fact]
    public async Task A_tag_invalidated_in_another_process_is_a_miss_here_and_the_other_way_round()
    {
        var instance = redis.NewInstanceName();
        using var other = await ConsistencyHostRun.StartTagHostAsync("redis", redis.Configuration, instance);
        await using var services = Container(instance);
        var cache = services.GetRequiredService<ICache>();

        await cache.SetAsync("p1", "v1", new CacheEntryOptions { Tags = ["t1"] });
        Assert.Equal("v1", await other.PeekAsync("p1"));
        await other.InvalidateTagAsync("t1");
        Assert.False((await cache.TryGetAsync<string>("p1")).Found);

        await other.SetTaggedAsync("p2", "v2", "t2");
        Assert.Equal((true, "v2"), await cache.TryGetAsync<string>("p2"));
        await cache.InvalidateTagAsync("t2");
        Assert.Null(await other.PeekAsync("p2"));

        // A load that began before the other process's invalidation: fenced, loaded again, the second load stored.
        var loads = 0;
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = cache.GetOrLoadAsync<int, string>(
            "p3",
            0,
            async (_, _) =>
            {
                var n = Interlocked.Increment(ref loads);
                if (n == 1)
                {
                    loading.SetResult();
                    await release.Task;
                }

                return $"load{n}";
            },
            new CacheEntryOptions { Tags = ["t3"] }).AsTask();
        await loading.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await other.InvalidateTagAsync("t3");
        release.SetResult();
        Assert.Equal("load2", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, loads);
        Assert.Equal("load2", await other.PeekAsync("p3"));
    }

    private ServiceProvider Container(string instance) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .Services.BuildServiceProvider();
}

[Collection(RedisServerGroup.Name)]
public sealed class RedisCrossProcessTagTests(RedisServer redis) : RedisCrossProcessTagContract(redis);

[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterCrossProcessTagTests(RedisCluster cluster) : RedisCrossProcessTagContract(cluster);
