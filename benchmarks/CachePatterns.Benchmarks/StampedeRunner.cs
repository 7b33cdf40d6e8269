using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>stampede</c> mode: <see cref="Callers"/> concurrent callers ask one cold key of a fresh cache whose
/// loader takes 50 ms; counts the loader invocations. Each library runs <see cref="Repetitions"/> times
/// (after one discarded warm-up run) and the table shows the worst (highest) load count.
/// </summary>
public static class StampedeRunner
{
    public const int Callers = 1_000;
    public const int Repetitions = 5;
    private const int Key = 7;
    private const string StringKey = "product:7";
    private static readonly TimeSpan LoaderDelay = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ThreadPool.GetMinThreads(out var workers, out var io);
        output.WriteLine(
            $"{Callers:N0} concurrent callers, one cold key, loader awaits {LoaderDelay.TotalMilliseconds:0} ms; " +
            $"{Repetitions} runs per library after a warm-up run, fresh cache each run; {Environment.ProcessorCount} cores, thread-pool min workers {workers}.");
        output.WriteLine();
        output.WriteLine("| library | callers | loads (max of runs) | loads per run | wall time median (ms) | wall time max (ms) |");
        output.WriteLine("|---|---:|---:|---|---:|---:|");

        await RowAsync(output, "CachePatterns ICacheStrategy.GetAsync", StrategyRunAsync);
        await RowAsync(output, "CachePatterns ICache.GetOrLoadAsync", AdHocCacheRunAsync);
        await RowAsync(output, "IMemoryCache.GetOrCreateAsync", MemoryCacheRunAsync);
        await RowAsync(output, "FusionCache GetOrSetAsync", FusionCacheRunAsync);
        await RowAsync(output, "HybridCache GetOrCreateAsync", HybridCacheRunAsync);
        return 0;
    }

    private static async Task RowAsync(TextWriter output, string library, Func<Task<(int Loads, TimeSpan Elapsed)>> run)
    {
        await run();
        var loads = new List<int>();
        var elapsed = new List<double>();
        for (var i = 0; i < Repetitions; i++)
        {
            var (l, e) = await run();
            loads.Add(l);
            elapsed.Add(e.TotalMilliseconds);
        }

        elapsed.Sort();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {library} | {Callers:N0} | {loads.Max():N0} | {string.Join(", ", loads)} | {elapsed[elapsed.Count / 2]:N0} | {elapsed[^1]:N0} |"));
    }

    /// <summary>Starts every caller on the thread pool behind one gate, opens it, and times until the last caller has its value.</summary>
    private static async Task<TimeSpan> StampedeAsync<T>(Func<ValueTask<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = new Task<T>[Callers];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(async () =>
            {
                await gate.Task;
                return await call();
            });
        }

        var stopwatch = Stopwatch.StartNew();
        gate.SetResult();
        var results = await Task.WhenAll(callers);
        stopwatch.Stop();
        if (Array.Exists(results, r => r is null))
        {
            throw new InvalidOperationException("A caller got no value.");
        }

        return stopwatch.Elapsed;
    }

    private static async Task<(int, TimeSpan)> StrategyRunAsync()
    {
        var loader = new CountingLoader(LoaderDelay);
        await using var services = CachePatternsServices.CreateCacheAside(10_000, loader);
        var strategy = services.GetRequiredService<ICacheStrategy<int, Product>>();
        var elapsed = await StampedeAsync(() => strategy.GetAsync(Key));
        return (loader.Loads, elapsed);
    }

    private static async Task<(int, TimeSpan)> AdHocCacheRunAsync()
    {
        var services = new ServiceCollection();
        services.AddCachePatterns();
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<ICache>();
        var counter = new LoadCounter();
        var elapsed = await StampedeAsync(() => cache.GetOrLoadAsync(StringKey, counter, static (c, ct) => c.LoadAsync(LoaderDelay, ct)));
        return (counter.Loads, elapsed);
    }

    private static async Task<(int, TimeSpan)> MemoryCacheRunAsync()
    {
        using var cache = new MemoryCache(new MemoryCacheOptions());
        var counter = new LoadCounter();
        var elapsed = await StampedeAsync(() => new ValueTask<Product?>(
            cache.GetOrCreateAsync(StringKey, _ => counter.LoadAsync(LoaderDelay, CancellationToken.None).AsTask())));
        return (counter.Loads, elapsed);
    }

    private static async Task<(int, TimeSpan)> FusionCacheRunAsync()
    {
        using var cache = new FusionCache(new FusionCacheOptions());
        var counter = new LoadCounter();
        var elapsed = await StampedeAsync(() => cache.GetOrSetAsync<Product>(StringKey, (_, ct) => counter.LoadAsync(LoaderDelay, ct).AsTask()));
        return (counter.Loads, elapsed);
    }

    private static async Task<(int, TimeSpan)> HybridCacheRunAsync()
    {
        var services = new ServiceCollection();
        services.AddHybridCache();
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<HybridCache>();
        var counter = new LoadCounter();
        var elapsed = await StampedeAsync(() => cache.GetOrCreateAsync(StringKey, counter, static (c, ct) => c.LoadAsync(LoaderDelay, ct)));
        return (counter.Loads, elapsed);
    }
}
