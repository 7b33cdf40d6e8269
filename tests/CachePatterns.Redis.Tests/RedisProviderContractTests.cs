using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Contract;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>The shared provider contract (tests/Shared/CacheProviderContract.cs) on a real redis-server.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisProviderContractTests(RedisServer redis) : CacheProviderContract
{
    /// <summary>One instance name per test (xUnit creates the class per test): the second client shares it, as another process would.</summary>
    private readonly string _instanceName = redis.NewInstanceName();

    protected override ICacheProvider CreateProvider(TimeProvider time) =>
        new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = redis.Configuration, InstanceName = _instanceName }), timeProvider: time);
}
