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

        await CrossProcessTagScenario.RunAsync(cache, other);
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
