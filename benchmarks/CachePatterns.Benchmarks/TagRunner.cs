using System.Diagnostics;
using System.Globalization;
using CachePatterns.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>tags</c> mode (issue 13): the cost of a tagged hit next to an untagged one, in memory and on a single Redis,
/// measured round-robin in one process (each round times a batch of every case back to back; the table shows the median
/// per-call time over the rounds), and <c>InvalidateTagAsync</c> over 10,000 tagged entries. Tagged and untagged entries
/// live in two named caches on the same provider kind, so the untagged store never reads by script.
/// </summary>
public static class TagRunner
{
    private const int Entries = 10_000;

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"load average at start: {LoadAverage()}");
        using var redis = RedisBenchServer.Start();
        await using var services = Services(redis.Configuration);
        await HitsAsync(output, "memory", Cache(services, "memory-untagged"), Cache(services, "memory-tagged"), Cache(services, "memory-sliding"), batch: 20_000, rounds: 200);
        await HitsAsync(output, "redis", Cache(services, "redis-untagged"), Cache(services, "redis-tagged"), Cache(services, "redis-sliding"), batch: 200, rounds: 60);
        await InvalidateAsync(output, "memory", services.GetRequiredKeyedService<ICache>("memory-tagged"));
        await InvalidateAsync(output, "redis", services.GetRequiredKeyedService<ICache>("redis-tagged"));
        output.WriteLine($"load average at end: {LoadAverage()}");
        return 0;
    }

    private static ICache Cache(IServiceProvider services, string name) => services.GetRequiredKeyedService<ICache>(name);

    private static ServiceProvider Services(string redis)
    {
        var services = new ServiceCollection();
        services.AddCachePatterns("memory-untagged").UseMemoryProvider();
        services.AddCachePatterns("memory-sliding").UseMemoryProvider();
        services.AddCachePatterns("redis-sliding").UseRedis(o => (o.Configuration, o.InstanceName) = (redis, "s:"))
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        services.AddCachePatterns("memory-tagged").UseMemoryProvider(o => o.MaxEntries = 2 * Entries);
        // Generous timeouts: the first call also connects, and the machine is shared.
        services.AddCachePatterns("redis-untagged").UseRedis(o => (o.Configuration, o.InstanceName) = (redis, "u:"))
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        services.AddCachePatterns("redis-tagged").UseRedis(o => (o.Configuration, o.InstanceName) = (redis, "t:"))
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        return services.BuildServiceProvider();
    }

    private static async Task HitsAsync(TextWriter output, string provider, ICache untagged, ICache tagged, ICache scripted, int batch, int rounds)
    {
        var one = new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromHours(1) };
        var three = new CacheEntryOptions { Tags = ["category:5", "shop", "page:1"], Expiration = TimeSpan.FromHours(1) };
        await untagged.TryGetAsync<string>("connect");
        await scripted.TryGetAsync<string>("connect");
        await tagged.TryGetAsync<string>("connect");
        await untagged.SetAsync("hit", "value", CacheEntryOptions.ExpireAfter(TimeSpan.FromHours(1)));
        await scripted.SetAsync("hit", "value", CacheEntryOptions.ExpireAfterIdle(TimeSpan.FromHours(1)));
        await tagged.SetAsync("hit1", "value", one);
        await tagged.SetAsync("hit3", "value", three);
        (string Name, ICache Cache, string Key)[] cases =
        [
            ("untagged hit (baseline)", untagged, "hit"),
            ("hit, 1 tag", tagged, "hit1"),
            ("hit, 3 tags", tagged, "hit3"),
            ("untagged sliding hit (read by script)", scripted, "hit"),
        ];
        var times = cases.Select(_ => new double[rounds]).ToArray();
        for (var round = -rounds / 5; round < rounds; round++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < batch; i++)
                {
                    var (found, _) = await cases[c].Cache.TryGetAsync<string>(cases[c].Key);
                    if (!found)
                    {
                        throw new InvalidOperationException($"{provider}: '{cases[c].Name}' missed.");
                    }
                }

                if (round >= 0)
                {
                    times[c][round] = Stopwatch.GetElapsedTime(started).TotalNanoseconds / batch;
                }
            }
        }

        output.WriteLine();
        output.WriteLine($"{provider}: {rounds} rounds of {batch:N0} sequential hits per case, cases interleaved; median of the per-round mean. Load average {LoadAverage()}.");
        output.WriteLine();
        output.WriteLine("| case | median | p25 | p75 | ratio (median) |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        var baseline = Percentile(times[0], 0.5);
        for (var c = 0; c < cases.Length; c++)
        {
            var median = Percentile(times[c], 0.5);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[c].Name} | {Format(median)} | {Format(Percentile(times[c], 0.25))} | {Format(Percentile(times[c], 0.75))} | {median / baseline:0.00} |"));
        }
    }

    private static async Task InvalidateAsync(TextWriter output, string provider, ICache cache)
    {
        var options = new CacheEntryOptions { Tags = ["bulk"], Expiration = TimeSpan.FromHours(1) };
        var filled = Stopwatch.StartNew();
        var pending = new List<Task>();
        for (var i = 0; i < Entries; i++)
        {
            pending.Add(cache.SetAsync($"bulk:{i}", "value", options).AsTask());
            if (pending.Count == 64)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
        filled.Stop();
        var invalidations = new double[5];
        for (var i = 0; i < invalidations.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await cache.InvalidateTagAsync("bulk");
            invalidations[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var misses = 0;
        var verified = Stopwatch.StartNew();
        for (var i = 0; i < Entries; i++)
        {
            misses += (await cache.TryGetAsync<string>($"bulk:{i}")).Found ? 0 : 1;
        }

        verified.Stop();
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{provider}: {Entries:N0} entries tagged 'bulk' set in {filled.Elapsed.TotalMilliseconds:0} ms (64 at a time); InvalidateTagAsync('bulk') took {Percentile(invalidations, 0.5):0} µs (median of 5; min {invalidations.Min():0}, max {invalidations.Max():0}); afterwards {misses:N0} of {Entries:N0} read as misses ({verified.Elapsed.TotalMilliseconds:0} ms to read them one by one). Load average {LoadAverage()}."));
    }

    private static string Format(double nanoseconds) =>
        nanoseconds >= 10_000 ? string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1000:0.0} µs") : string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:0} ns");

    private static double Percentile(double[] samples, double p)
    {
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
