using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using CachePatterns.Diagnostics;
using CachePatterns.Redis;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Benchmarks;

/// <summary>
/// <c>nearcache</c> mode: two "processes" (two containers, two Redis providers, two connections) on one redis-server,
/// near cache on. Measures (1) the invalidation delay: process A invalidates a key that B holds, timed from the start of
/// A's call to B receiving the message (both on one Stopwatch), and B's own server-clock histogram value; (2) B's L1 hit
/// against <see cref="IMemoryCache.TryGetValue"/>, interleaved in rounds, with allocated bytes. Rounds are interleaved so
/// machine load hits both alike; the load average is printed with the figures.
/// </summary>
internal static class NearCacheRunner
{
    public static async Task<int> RunAsync(TextWriter output, string[] args)
    {
        var samples = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        using var server = RedisBenchServer.Start();
        var loader = new ProductLoader();
        await using var a = Process(server.Configuration, loader);
        await using var b = Process(server.Configuration, loader);
        var aStrategy = a.GetRequiredService<ICacheStrategy<int, Product>>();
        var bStrategy = b.GetRequiredService<ICacheStrategy<int, Product>>();

        // B's receipts, timed on the shared Stopwatch; B's server-clock delays from its histogram.
        var received = new long[1];
        var serverDelays = new List<double>();
        var signal = new SemaphoreSlim(0);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only B receives invalidations (A's own are not echoed back to it), so the names alone pick B's instruments.
            if (instrument.Meter.Name == CacheDiagnostics.SourceName && instrument.Name is CacheDiagnostics.NearInvalidations or CacheDiagnostics.NearInvalidationDelay)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            Volatile.Write(ref received[0], Stopwatch.GetTimestamp());
            signal.Release();
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (serverDelays)
            {
                serverDelays.Add(value);
            }
        });
        listener.Start();

        const int Key = 7;
        await WaitServingAsync(bStrategy, Key);
        var endToEnd = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            await bStrategy.GetAsync(Key); // B holds a copy (from Redis after the previous invalidation)
            await bStrategy.GetAsync(Key);
            var start = Stopwatch.GetTimestamp();
            await aStrategy.InvalidateAsync(Key);
            if (!await signal.WaitAsync(TimeSpan.FromSeconds(5)))
            {
                output.WriteLine($"sample {i}: no invalidation within 5 s");
                return 1;
            }

            endToEnd.Add(Stopwatch.GetElapsedTime(start, Volatile.Read(ref received[0])).TotalMilliseconds);
        }

        output.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine($"invalidation delay, A's InvalidateAsync start -> B receives ({samples} samples): {Percentiles(endToEnd)}");
        lock (serverDelays)
        {
            output.WriteLine($"invalidation delay, server change -> B receives (server clock, histogram values): {Percentiles(serverDelays.Select(s => s * 1000).ToList())}");
        }

        // L1 hit vs IMemoryCache.TryGetValue, interleaved rounds.
        // Typed as the interface, as applications inject it (the concrete type binds to a faster span overload).
        using var concrete = new MemoryCache(new MemoryCacheOptions());
        IMemoryCache memory = concrete;
        memory.Set("product:7", Product.Sample);
        await using var inMemory = new ServiceCollection().AddCachePatterns().AddStrategy<int, Product>(CacheStrategyKind.CacheAside, _ => loader).Services.BuildServiceProvider();
        var memoryStrategy = inMemory.GetRequiredService<ICacheStrategy<int, Product>>();
        await memoryStrategy.GetAsync(Key);
        await WaitServingAsync(bStrategy, Key);
        const int PerRound = 2_000_000;
        double nearNs = 0, memoryNs = 0, providerNs = 0;
        long nearBytes = 0;
        for (var round = 0; round < 5; round++)
        {
            var t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < PerRound; i++)
            {
                _ = memory.TryGetValue("product:7", out Product? _);
            }

            memoryNs += Stopwatch.GetElapsedTime(t0).TotalNanoseconds / PerRound;
            t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < PerRound; i++)
            {
                var pending = memoryStrategy.GetAsync(Key);
                _ = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            }

            providerNs += Stopwatch.GetElapsedTime(t0).TotalNanoseconds / PerRound;
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < PerRound; i++)
            {
                var pending = bStrategy.GetAsync(Key);
                _ = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            }

            nearNs += Stopwatch.GetElapsedTime(t0).TotalNanoseconds / PerRound;
            nearBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
        }

        output.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine($"IMemoryCache.TryGetValue: {memoryNs / 5:F1} ns; in-memory provider hit (ICacheStrategy.GetAsync, sync check): {providerNs / 5:F1} ns = {providerNs / memoryNs:F2}x; near-cache hit over Redis (same call): {nearNs / 5:F1} ns = {nearNs / memoryNs:F2}x, {nearBytes} B allocated in {5 * PerRound} hits");
        return 0;
    }

    private static async Task WaitServingAsync(ICacheStrategy<int, Product> strategy, int key)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await strategy.GetAsync(key);
            var pending = strategy.GetAsync(key);
            if (pending.IsCompletedSuccessfully)
            {
                return; // answered from process memory
            }

            await pending;
            await Task.Delay(10);
        }

        throw new InvalidOperationException("The near cache never served a copy.");
    }

    private static string Percentiles(List<double> ms)
    {
        if (ms.Count == 0)
        {
            return "no samples";
        }

        ms.Sort();
        double At(double p) => ms[Math.Min(ms.Count - 1, (int)(p * ms.Count))];
        return string.Create(CultureInfo.InvariantCulture, $"p50 {At(0.5):F3} ms, p90 {At(0.9):F3} ms, p99 {At(0.99):F3} ms, max {ms[^1]:F3} ms");
    }

    private static ServiceProvider Process(string configuration, ProductLoader loader) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseProvider(_ => new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration, InstanceName = "near:" })))
            .WithNearCache()
            .AddStrategy<int, Product>(CacheStrategyKind.CacheAside, _ => loader)
            .Services.BuildServiceProvider();
}
