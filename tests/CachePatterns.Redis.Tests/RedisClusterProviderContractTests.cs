using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Contract;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// The shared provider contract (tests/Shared/CacheProviderContract.cs) on a real 3-primary Redis Cluster: an entry and
/// the versions of its tags live in different slots, so tags are checked by the client (a second round trip).
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterProviderContractTests(RedisCluster cluster) : CacheProviderContract
{
    /// <summary>One instance name per test (xUnit creates the class per test): the second client shares it, as another process would.</summary>
    private readonly string _instanceName = cluster.NewInstanceName();

    protected override ICacheProvider CreateProvider(TimeProvider time) =>
        new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = cluster.Configuration, InstanceName = _instanceName }), timeProvider: time);
}
