using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;

namespace CachePatterns.Redis.Tests;

/// <summary>What only a Cluster shows: keys spread over every primary, multi-gets across nodes, a sweep over every primary.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterTests(RedisCluster cluster)
{
    [Fact]
    public async Task Keys_spread_over_all_three_primaries_and_one_multi_get_reads_them_all()
    {
        var instance = cluster.NewInstanceName();
        using var provider = cluster.CreateProvider(instanceName: instance);
        var store = RedisServer.CreateStore(provider);
        var keys = Enumerable.Range(0, 60).Select(i => $"k{i}").ToArray();
        foreach (var key in keys)
        {
            await store.SetAsync(key, CacheValue<string>.Of("v-" + key), new StoreEntryOptions(TimeSpan.FromMinutes(1)), default);
        }

        foreach (var node in cluster.Nodes)
        {
            var held = (long)await node.Database.ExecuteAsync("DBSIZE");
            Assert.True(held > 0, $"node {node.Configuration} holds none of the 60 keys: they did not spread over the slots");
        }

        var lookups = await store.GetManyAsync(keys, acquireLeases: true, default);
        Assert.All(lookups.Zip(keys), p =>
        {
            Assert.Equal(CacheLookupStatus.Hit, p.First.Status);
            Assert.Equal("v-" + p.Second, p.First.Value.Value);
        });
    }
}
