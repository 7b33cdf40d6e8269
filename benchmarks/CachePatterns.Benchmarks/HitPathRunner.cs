using System.Diagnostics;
using System.Globalization;
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
        var cases = Cases(fixture);
        var times = cases.Select(_ => new double[MeasuredRounds]).ToArray();
        var allocated = new long[cases.Length];
        for (var round = 0; round < WarmupRounds + MeasuredRounds; round++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                if (cases[c].Run(fixture) != Batch)
                {
                    throw new InvalidOperationException($"'{cases[c].Name}' missed.");
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                if (round >= WarmupRounds)
                {
                    times[c][round - WarmupRounds] = elapsed.TotalNanoseconds / Batch;
                    allocated[c] += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
                }
            }
        }

        output.WriteLine(
            $"{MeasuredRounds} rounds (after {WarmupRounds} warm-up rounds) of {Batch:N0} calls per case, cases interleaved; " +
            "median and quartiles of the per-round mean.");
        output.WriteLine();
        output.WriteLine("| method | median | p25 | p75 | ratio (median) | allocated |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        var baseline = Percentile(times[0], 0.5);
        for (var c = 0; c < cases.Length; c++)
        {
            var median = Percentile(times[c], 0.5);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[c].Name} | {median:0.0} ns | {Percentile(times[c], 0.25):0.0} ns | {Percentile(times[c], 0.75):0.0} ns | {median / baseline:0.00} | {(double)allocated[c] / ((long)MeasuredRounds * Batch):0} B |"));
        }

        return 0;
    }

    private static double Percentile(double[] samples, double p)
    {
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
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

    private static int Found<T>(ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully ? (pending.Result is not null ? 1 : 0) : (pending.AsTask().GetAwaiter().GetResult() is not null ? 1 : 0);
}
