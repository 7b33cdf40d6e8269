namespace CachePatterns.Benchmarks.Near;

/// <summary>How the near-cache benchmarks configure CachePatterns: the Redis provider with its near cache on.</summary>
public static class NearCacheSetup
{
    public static CachePatternsBuilder UseRedisWithNearCache(CachePatternsBuilder builder, string redisConfiguration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseRedis(o => o.Configuration = redisConfiguration).WithNearCache();
    }
}
