using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>hybridhit</c> mode: a hit through Microsoft's <see cref="HybridCache"/> abstraction, three implementations side
/// by side in one process, rounds interleaved (as <see cref="HitPathRunner"/>): CachePatterns' adapter
/// (<c>AddCachePatterns().AddHybridCache()</c>), Microsoft's <c>DefaultHybridCache</c> (<c>services.AddHybridCache()</c>)
/// and FusionCache 2.9.0's <c>AsHybridCache()</c>. In memory, and with Redis behind each (ours: the Redis provider, every
/// hit a round trip unless a near cache is configured; theirs: L1 in memory over Redis as L2, so their hits stay in
/// memory). Each case calls <c>GetOrCreateAsync(key, state, factory)</c> with the default options and no tags (our
/// adapter still tags every entry with its <c>"*"</c> tag).
/// </summary>
public static class HybridCacheHitRunner
{
    private const string Key = "product:42";
    private const int WarmupRounds = 50;
    private const int MeasuredRounds = 300;
    private static readonly TimeSpan LongExpiration = TimeSpan.FromHours(1);

    public static async Task<int> RunAsync(TextWriter output, string[] args)
    {
        ArgumentNullException.ThrowIfNull(output);
        var withRedis = !args.Contains("--memory-only");
        var providers = new List<ServiceProvider>();
        try
        {
            var adHoc = (CachePatterns.Internal.AdHocCache)AddServices(providers, s => s.AddCachePatterns().ConfigureDefaults(o => o.Expiration = LongExpiration))
                .GetRequiredService<ICache>();
            var tagged = new CacheEntryOptions { Tags = ["t"] };
            var adapter = (CachePatterns.Hybrid.Internal.CachePatternsHybridCache)Add(providers, s => s.AddCachePatterns().ConfigureDefaults(o => o.Expiration = LongExpiration).AddHybridCache());
            var diagnostics = new (string Name, Func<ValueTask<Product>> Hit)[]
            {
                ("*diagnostic:* CachePatterns adapter called on its sealed class (no generic virtual dispatch)", () => adapter.GetOrCreateAsync(Key, Product.Sample, static (p, _) => new ValueTask<Product>(p))),
                ("*diagnostic:* generic virtual dispatch alone (a HybridCache whose GetOrCreateAsync returns the state)", () => DispatchOnly.GetOrCreateAsync(Key, Product.Sample, static (p, _) => new ValueTask<Product>(p))),
                ("*diagnostic:* AdHocCache.GetOrLoadAsync (state), untagged", () => adHoc.GetOrLoadAsync("untagged", Product.Sample, static (p, _) => new ValueTask<Product>(p))),
                ("*diagnostic:* AdHocCache.GetOrLoadAsync (state), one tag", () => adHoc.GetOrLoadAsync("tagged", Product.Sample, static (p, _) => new ValueTask<Product>(p), tagged)),
            };
            var cases = new List<(string Name, HybridCache Cache, int Batch)>
            {
                ("Microsoft HybridCache (memory)", Add(providers, s => s.AddHybridCache(o => o.DefaultEntryOptions = Defaults())), 20_000),
                ("FusionCache AsHybridCache (memory)", Add(providers, s => s.AddFusionCache().WithDefaultEntryOptions(new FusionCacheEntryOptions(LongExpiration)).AsHybridCache()), 20_000),
                ("CachePatterns AddHybridCache (memory)", Add(providers, s => s.AddCachePatterns().ConfigureDefaults(o => o.Expiration = LongExpiration).AddHybridCache()), 20_000),
            };

            using var redis = withRedis ? RedisBenchServer.Start() : null;
            if (redis is not null)
            {
                cases.Add(("Microsoft HybridCache (L1 + Redis L2)", Add(providers, s =>
                {
                    s.AddStackExchangeRedisCache(o => o.Configuration = redis.Configuration);
                    s.AddHybridCache(o => o.DefaultEntryOptions = Defaults());
                }), 20_000));
                cases.Add(("FusionCache AsHybridCache (L1 + Redis L2)", Add(providers, s =>
                {
                    s.AddStackExchangeRedisCache(o => o.Configuration = redis.Configuration);
                    s.AddFusionCache()
                        .WithDefaultEntryOptions(new FusionCacheEntryOptions(LongExpiration))
                        .WithSerializer(new FusionCacheSystemTextJsonSerializer())
                        .WithRegisteredDistributedCache()
                        .AsHybridCache();
                }), 20_000));
                cases.Add(("CachePatterns AddHybridCache (Redis provider)", Add(providers, s => s.AddCachePatterns()
                    .UseRedis(o =>
                    {
                        o.Configuration = redis.Configuration;
                        o.InstanceName = "bench:";
                    })
                    .ConfigureDefaults(o => o.Expiration = LongExpiration)
                    .AddHybridCache()), 500));
                cases.Add(("CachePatterns AddHybridCache (Redis provider + near cache)", Add(providers, s => s.AddCachePatterns()
                    .UseRedis(o =>
                    {
                        o.Configuration = redis.Configuration;
                        o.InstanceName = "bench-near:";
                    })
                    .WithNearCache()
                    .ConfigureDefaults(o => o.Expiration = LongExpiration)
                    .AddHybridCache()), 20_000));
            }

            var hits = cases.Select(c => (c.Name, Hit: (Func<ValueTask<Product>>)(() => c.Cache.GetOrCreateAsync(Key, Product.Sample, static (p, _) => new ValueTask<Product>(p))), c.Batch))
                .Concat(diagnostics.Select(d => (d.Name, d.Hit, Batch: 20_000)))
                .ToList();
            foreach (var (name, hit, _) in hits)
            {
                if ((await hit()).Id != Product.Sample.Id)
                {
                    throw new InvalidOperationException($"'{name}' returned another value.");
                }
            }

            var times = hits.Select(_ => new double[MeasuredRounds]).ToArray();
            var cpuTimes = hits.Select(_ => new double[MeasuredRounds]).ToArray();
            var allocated = new long[hits.Count];
            var awaited = new bool[hits.Count];
            for (var round = 0; round < WarmupRounds + MeasuredRounds; round++)
            {
                for (var c = 0; c < hits.Count; c++)
                {
                    var (name, hit, batch) = hits[c];
                    var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
                    var started = Stopwatch.GetTimestamp();
                    var cpuStarted = ProcessCpuTime.ThreadNanoseconds();
                    var (found, async) = await HitsAsync(hit, batch);
                    var cpu = ProcessCpuTime.ThreadNanoseconds() - cpuStarted;
                    awaited[c] |= async;
                    if (found != batch)
                    {
                        throw new InvalidOperationException($"'{name}' missed.");
                    }

                    var elapsed = Stopwatch.GetElapsedTime(started);
                    if (round >= WarmupRounds)
                    {
                        times[c][round - WarmupRounds] = elapsed.TotalNanoseconds / batch;
                        cpuTimes[c][round - WarmupRounds] = (double)cpu / batch;
                        allocated[c] += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
                    }
                }
            }

            output.WriteLine($"{MeasuredRounds} rounds (after {WarmupRounds} warm-up rounds), cases interleaved; median and quartiles of the per-round mean; load average {LoadAverage()}.");
            output.WriteLine();
            output.WriteLine("Wall: elapsed time per call. CPU: the benchmark thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID), which leaves out the time");
            output.WriteLine("other processes held the core; on a loaded machine read the CPU columns.");
            output.WriteLine();
            output.WriteLine("| HybridCache implementation | calls/round | wall median | wall p25 | wall p75 | wall ratio | CPU median | CPU p25 | CPU ratio | allocated/call |");
            output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var baseline = Median(times[0]);
            var cpuBaseline = Median(cpuTimes[0]);
            for (var c = 0; c < hits.Count; c++)
            {
                var sorted = times[c].Order().ToArray();
                var cpuSorted = cpuTimes[c].Order().ToArray();
                var perCall = awaited[c] ? "n/a (awaited: threads change)" : string.Create(CultureInfo.InvariantCulture, $"{(double)allocated[c] / ((long)MeasuredRounds * hits[c].Batch):0} B");
                var cpuColumns = awaited[c]
                    ? "n/a | n/a | n/a"
                    : string.Create(CultureInfo.InvariantCulture, $"{Format(cpuSorted[cpuSorted.Length / 2])} | {Format(cpuSorted[cpuSorted.Length / 4])} | {cpuSorted[cpuSorted.Length / 2] / cpuBaseline:0.00}");
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {hits[c].Name} | {hits[c].Batch:N0} | {Format(sorted[sorted.Length / 2])} | {Format(sorted[sorted.Length / 4])} | {Format(sorted[sorted.Length * 3 / 4])} | {sorted[sorted.Length / 2] / baseline:0.00} | {cpuColumns} | {perCall} |"));
            }

            return 0;
        }
        finally
        {
            foreach (var provider in providers)
            {
                await provider.DisposeAsync();
            }
        }
    }

    /// <summary>Prices the call itself: every implementation's hit pays this generic virtual dispatch before its own work.</summary>
    private static readonly HybridCache DispatchOnly = new StateEcho();

    private static HybridCacheEntryOptions Defaults() => new() { Expiration = LongExpiration, LocalCacheExpiration = LongExpiration };

    private static HybridCache Add(List<ServiceProvider> providers, Action<IServiceCollection> configure) =>
        AddServices(providers, configure).GetRequiredService<HybridCache>();

    private static ServiceProvider AddServices(List<ServiceProvider> providers, Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        return provider;
    }

    /// <summary>Synchronously completed hits are read without awaiting (as <see cref="HitPathRunner"/>); others are awaited.</summary>
    private static async ValueTask<(int Found, bool Awaited)> HitsAsync(Func<ValueTask<Product>> hit, int batch)
    {
        var found = 0;
        var awaited = false;
        for (var i = 0; i < batch; i++)
        {
            var pending = hit();
            Product value;
            if (pending.IsCompletedSuccessfully)
            {
                value = pending.Result;
            }
            else
            {
                awaited = true;
                value = await pending;
            }

            found += value is not null ? 1 : 0;
        }

        return (found, awaited);
    }

    private static double Median(double[] samples) => samples.Order().ElementAt(samples.Length / 2);

    private static string Format(double nanoseconds) =>
        nanoseconds >= 10_000 ? string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1000:0.0} µs") : string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:0.0} ns");

    /// <summary>A <see cref="HybridCache"/> that answers every call with its state: the dispatch, nothing else.</summary>
    private sealed class StateEcho : HybridCache
    {
        public override ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
            state is T value ? new ValueTask<T>(value) : factory(state, cancellationToken);

        public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) => default;

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => default;

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => default;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
