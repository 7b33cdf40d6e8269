using System.Diagnostics;
using CachePatterns.Internal;
using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>hitpath</c> mode: the hit comparison of <see cref="MemoryHitBenchmarks"/> measured round-robin in one
/// process. BenchmarkDotNet runs each benchmark in its own process one after another, so on a shared machine the
/// load changes between rows; here every round times a batch of each case back to back and the table shows the
/// median per-call time over the rounds, which keeps the ratios steady while absolute times drift.
/// Async APIs are called like a synchronous-completion caller: check <c>IsCompletedSuccessfully</c>, read <c>Result</c>.
/// </summary>
public static class HitPathRunner
{
    private const int Batch = 20_000;
    private const int WarmupRounds = 100;
    private const int MeasuredRounds = 500;

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var fixture = await HitFixture.CreateAsync();
        InterleavedBatches.Run(output, fixture, Cases(fixture), Batch, WarmupRounds, MeasuredRounds);
        return 0;
    }

    /// <summary>Each case runs <see cref="Batch"/> hits and returns how many found the value.</summary>
    private static (string Name, Func<HitFixture, int> Run)[] Cases(HitFixture fixture) =>
    [
        ("IMemoryCache.TryGetValue (baseline)", static f =>
        {
            var cache = f.MemoryCache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += cache.TryGetValue(HitFixture.StringKey, out Product? v) && v is not null ? 1 : 0;
            }

            return found;
        }),
        ("IMemoryCache.TryGetValue (int key)", static f =>
        {
            var cache = f.MemoryCache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += cache.TryGetValue(HitFixture.Key, out Product? v) && v is not null ? 1 : 0;
            }

            return found;
        }),
        ("BitFaster ConcurrentLru.TryGet", static f =>
        {
            var cache = f.Lru;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += cache.TryGet(HitFixture.Key, out var v) && v is not null ? 1 : 0;
            }

            return found;
        }),
        ("ICacheStrategy.GetAsync", static f =>
        {
            var strategy = f.Strategy;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(strategy.GetAsync(HitFixture.Key));
            }

            return found;
        }),
        ("ICache.GetOrLoadAsync (static lambda)", static f =>
        {
            var cache = f.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(cache.GetOrLoadAsync(HitFixture.StringKey, static _ => new ValueTask<Product>(Product.Sample)));
            }

            return found;
        }),
        ("ICache.GetOrLoadAsync (state)", static f =>
        {
            var cache = f.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(cache.GetOrLoadAsync(HitFixture.StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p)));
            }

            return found;
        }),
        ("FusionCache GetOrSetAsync", static f =>
        {
            var cache = f.Fusion;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(cache.GetOrSetAsync<Product>(HitFixture.StringKey, static (_, _) => Task.FromResult(Product.Sample)));
            }

            return found;
        }),
        ("HybridCache GetOrCreateAsync", static f =>
        {
            var cache = f.Hybrid;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(cache.GetOrCreateAsync(HitFixture.StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p)));
            }

            return found;
        }),
        ("*diagnostic:* AdHocCache.GetOrLoadAsync (state), concrete class, no interface dispatch", static f =>
        {
            var cache = (AdHocCache)f.Cache;
            var found = 0;
            for (var i = 0; i < Batch; i++)
            {
                found += Found(cache.GetOrLoadAsync(HitFixture.StringKey, Product.Sample, static (p, _) => new ValueTask<Product>(p)));
            }

            return found;
        }),
        ("*diagnostic:* Stopwatch.GetTimestamp (the clock read of our hit)", static _ =>
        {
            long sum = 0;
            for (var i = 0; i < Batch; i++)
            {
                sum += Stopwatch.GetTimestamp();
            }

            return sum != 0 ? Batch : 0;
        }),
        ("*diagnostic:* DateTime.UtcNow (the clock read of IMemoryCache's hit)", static _ =>
        {
            long sum = 0;
            for (var i = 0; i < Batch; i++)
            {
                sum += DateTime.UtcNow.Ticks;
            }

            return sum != 0 ? Batch : 0;
        }),
    ];

    private static int Found<T>(ValueTask<T> pending) => InterleavedBatches.Found(pending);
}
