using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The <c>nearhit</c> mode: <see cref="NearHitBenchmarks"/>' calls timed round-robin in one process
/// (<see cref="InterleavedBatches"/>), so the ratios to <c>IMemoryCache.TryGetValue</c> see the same load.
/// </summary>
public static class NearHitRunner
{
    private const int Batch = 20_000;
    private const int WarmupRounds = 50;
    private const int MeasuredRounds = 300;

    public static async Task<int> RunAsync(TextWriter output)
    {
        await using var fixture = await NearHitFixture.CreateAsync();
        InterleavedBatches.Run(output, fixture, Cases, Batch, WarmupRounds, MeasuredRounds);
        return 0;
    }

    private static (string Name, Func<NearHitFixture, int> Run)[] Cases =>
    [
        ("IMemoryCache.TryGetValue (baseline)", static f =>
        {
            var cache = f.MemoryCache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += cache.TryGetValue(NearHitFixture.StringKey, out Product? v) && v is not null ? 1 : 0;
            }

            return found;
        }),
        ("CachePatterns ICacheStrategy.GetAsync (Redis + near cache)", static f =>
        {
            var strategy = f.Ours.Strategy;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += InterleavedBatches.Found(strategy.GetAsync(NearHitFixture.Key));
            }

            return found;
        }),
        ("CachePatterns ICache.GetOrLoadAsync (Redis + near cache)", static f =>
        {
            var cache = f.Ours.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += InterleavedBatches.Found(cache.GetOrLoadAsync(NearHitFixture.StringKey, static _ => new ValueTask<Product>(Product.Sample)));
            }

            return found;
        }),
        ("FusionCache GetOrSetAsync (memory + Redis + backplane)", static f =>
        {
            var cache = f.Fusion.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += InterleavedBatches.Found(cache.GetOrSetAsync<Product>(NearHitFixture.StringKey, static (_, _) => Task.FromResult(Product.Sample)));
            }

            return found;
        }),
        ("HybridCache GetOrCreateAsync (local + Redis)", static f =>
        {
            var cache = f.Hybrid.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += InterleavedBatches.Found(cache.GetOrCreateAsync(NearHitFixture.StringKey, static _ => new ValueTask<Product>(Product.Sample)));
            }

            return found;
        }),
    ];
}
