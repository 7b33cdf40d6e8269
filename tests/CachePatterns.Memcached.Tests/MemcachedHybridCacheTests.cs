using CachePatterns.Hybrid;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>The HybridCache conformance tests on a real memcached (a key prefix of its own per test class instance; a peer container is another client).</summary>
public sealed class MemcachedHybridCacheTests(MemcachedFixture fixture) : HybridCacheConformance, IClassFixture<MemcachedFixture>
{
    private readonly string _prefix = $"hc{Guid.NewGuid():N}:";

    protected override bool SerializesValues => true;

    protected override ServiceProvider CreateServices(Action<CachePatternsHybridCacheOptions>? options = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddFakeLogging();
        services?.Invoke(collection);
        collection.AddCachePatterns()
            .UseMemcached(o =>
            {
                o.Servers.Add(fixture.Server.Address);
                o.KeyPrefix = _prefix;

                // Each test's first call connects; these tests are about HybridCache's behaviour, not about a slow connect
                // (in about 1 of 100 test containers a loopback connect took over the default 250 ms here).
                o.ConnectTimeout = TimeSpan.FromSeconds(5);
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddHybridCache(options);
        return collection.BuildServiceProvider();
    }

    protected override ServiceProvider? CreatePeer() => CreateServices();
}
