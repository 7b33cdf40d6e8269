using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;

namespace CachePatterns.Redis.Tests.OutputCaching;

/// <summary>Output caching over a real Redis: app instances of one test share one instance name (two shop servers).</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisOutputCacheTests(RedisServer redis) : OutputCacheConformance
{
    private readonly string _instance = redis.NewInstanceName();

    protected override bool AppsShareTheCache => true;

    protected override void UseProvider(CachePatternsBuilder builder) =>
        builder.UseRedis(o =>
        {
            o.Configuration = redis.Configuration;
            o.InstanceName = _instance;
        }).ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
}
