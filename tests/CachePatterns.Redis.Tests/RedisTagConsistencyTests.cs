using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Tag invalidation is fenced like key invalidation on Redis (docs/providers.md, "Tags"): two containers (two processes)
/// over one server or Cluster, query results tagged by category, writers invalidating the tags through the other
/// container — no read that began after an invalidation returned gets an older result, nothing stale stays cached. On a
/// Cluster an entry and its tag versions live in different slots (checked by the client).
/// </summary>
public abstract class RedisTagConsistencyContract(IRedisTarget redis)
{
    [Fact]
    public async Task A_tagged_entry_loaded_before_a_tag_invalidation_is_never_served_after_it()
    {
        var instance = redis.NewInstanceName();
        var reads = 0;
        for (var round = 0; round < 3; round++)
        {
            await using var one = Container(instance);
            await using var two = Container(instance);
            var report = await TagConsistencyChecker.RunAsync(
                [TagConsistencyChecker.Of(one.GetRequiredService<ICache>()), TagConsistencyChecker.Of(two.GetRequiredService<ICache>())],
                new TagCheckerOptions(OperationsPerWorker: 200));
            Assert.True(report.IsConsistent, $"round {round}: {report}");
            reads += report.Reads;
        }

        Assert.True(reads >= 1_000, $"only {reads} reads checked");
    }

    [Fact]
    public async Task The_checker_catches_a_cache_that_stamps_a_value_when_it_stores_it()
    {
        using var provider = redis.CreateProvider();
        var caught = 0;
        for (var round = 0; round < 10 && caught == 0; round++)
        {
            var report = await TagConsistencyChecker.RunAsync([TagConsistencyChecker.Naive(provider)], new TagCheckerOptions(OperationsPerWorker: 200));
            caught += report.OlderThanCompletedWrite + report.StaleEntries.Count;
        }

        Assert.True(caught > 0, "the naive tagged cache was not caught in 10 rounds");
    }

    private ServiceProvider Container(string instance) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })

            // The machine is loaded: a slow call must not become a skipped fill or a failed invalidation here.
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .Services.BuildServiceProvider();
}

[Collection(RedisServerGroup.Name)]
public sealed class RedisTagConsistencyTests(RedisServer redis) : RedisTagConsistencyContract(redis);

[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterTagConsistencyTests(RedisCluster cluster) : RedisTagConsistencyContract(cluster);
