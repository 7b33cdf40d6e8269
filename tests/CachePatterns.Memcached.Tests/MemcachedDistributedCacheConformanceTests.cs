using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>The IDistributedCache expectations on a real memcached, in real time.</summary>
public sealed class MemcachedDistributedCacheConformanceTests : DistributedCacheConformance, IClassFixture<MemcachedFixture>, IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public MemcachedDistributedCacheConformanceTests(MemcachedFixture fixture)
    {
        var prefix = $"dc{Guid.NewGuid():N}:";
        _services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                o.Servers.Add(fixture.Server.Address);
                o.ConnectTimeout = TimeSpan.FromSeconds(5); // about IDistributedCache, not a slow connect (see MemcachedHybridCacheTests)
            })
            .AddDistributedCache(o => o.KeyPrefix = prefix)
            .Services.BuildServiceProvider();
    }

    protected override IDistributedCache Cache => _services.GetRequiredService<IDistributedCache>();

    protected override DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    protected override bool FakeClock => false;

    protected override Task PassAsync(TimeSpan time) => Task.Delay(time);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
