using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// One redis-server the fixture starts, and on it every two-level cache of the near-cache comparison, each holding
/// <see cref="Product.Sample"/> under one warm key in its memory level; plus the baseline, <see cref="IMemoryCache"/>.
/// Shared by <see cref="NearHitBenchmarks"/>, <see cref="NearHitRunner"/> and <see cref="NearThroughputRunner"/>.
/// </summary>
public sealed class NearHitFixture : IAsyncDisposable
{
    public const int Key = 42;
    public const string StringKey = "product:42";

    private NearHitFixture(RedisBenchServer server, CachePatternsNearRunner ours, FusionCacheNearRunner fusion, HybridCacheNearRunner hybrid)
    {
        Server = server;
        Ours = ours;
        Fusion = fusion;
        Hybrid = hybrid;
    }

    public RedisBenchServer Server { get; }

    /// <summary>Gets the baseline, typed as applications inject it (string keys go through <c>TryGetValue(object, out object)</c>).</summary>
    public IMemoryCache MemoryCache { get; } = new MemoryCache(new MemoryCacheOptions());

    public CachePatternsNearRunner Ours { get; }

    public FusionCacheNearRunner Fusion { get; }

    public HybridCacheNearRunner Hybrid { get; }

    public IReadOnlyList<INearCacheRunner> Runners => [Ours, Fusion, Hybrid];

    public static async Task<NearHitFixture> CreateAsync()
    {
        var server = RedisBenchServer.Start();
        var configuration = server.Configuration;
        var fixture = new NearHitFixture(
            server,
            (CachePatternsNearRunner)await NearCacheRunners.CreateAsync(NearCacheRunners.CachePatterns, configuration),
            (FusionCacheNearRunner)await NearCacheRunners.CreateAsync(NearCacheRunners.FusionCache, configuration),
            (HybridCacheNearRunner)await NearCacheRunners.CreateAsync(NearCacheRunners.HybridCache, configuration));
        await fixture.WarmAsync();
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        MemoryCache.Dispose();
        foreach (var runner in Runners)
        {
            await runner.DisposeAsync();
        }

        Server.Dispose();
    }

    private async Task WarmAsync()
    {
        MemoryCache.Set(StringKey, Product.Sample, NearCacheRunners.Lifetime);
        foreach (var runner in Runners)
        {
            await runner.SetAsync(StringKey, Product.Sample);

            // Twice: the first read may fill the memory level, the second must find it there.
            _ = await runner.GetAsync(StringKey);
            _ = await runner.GetAsync(StringKey);
        }

        _ = await Ours.Strategy.GetAsync(Key);
        _ = await Ours.Strategy.GetAsync(Key);
    }
}
