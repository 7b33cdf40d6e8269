using StackExchange.Redis;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>What the contract tests need from a deployment (one server, or a Cluster): they run unchanged on each.</summary>
public interface IRedisTarget
{
    /// <summary>The provider's configuration string.</summary>
    string Configuration { get; }

    /// <summary>A raw client for looking behind the provider's back (cluster-aware on a Cluster).</summary>
    ConnectionMultiplexer Raw { get; }

    IDatabase Database { get; }

    RedisCacheProvider CreateProvider(Action<RedisCacheProviderOptions>? configure = null, string? instanceName = null);

    string NewInstanceName();
}
