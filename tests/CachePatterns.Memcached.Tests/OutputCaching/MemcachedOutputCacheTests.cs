using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;

namespace CachePatterns.Memcached.Tests.OutputCaching;

/// <summary>Output caching over a real memcached: app instances of one test share one key prefix (two shop servers).</summary>
public sealed class MemcachedOutputCacheTests(MemcachedFixture fixture) : OutputCacheConformance, IClassFixture<MemcachedFixture>
{
    private readonly string _prefix = $"oc{Guid.NewGuid():N}:";

    protected override bool AppsShareTheCache => true;

    protected override void UseProvider(CachePatternsBuilder builder) =>
        builder.UseMemcached(o =>
        {
            o.Servers.Add(fixture.Server.Address);
            o.KeyPrefix = _prefix;
            o.ConnectTimeout = TimeSpan.FromSeconds(5); // about the output cache, not a slow connect (see MemcachedHybridCacheTests)
        }).ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
}
