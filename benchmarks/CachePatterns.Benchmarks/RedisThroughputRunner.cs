using System.Diagnostics;
using System.Globalization;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>redisthroughput</c> mode: 64 concurrent callers read one warm key for a fixed time, raw StackExchange.Redis
/// + System.Text.Json against CachePatterns and the peers over the same redis-server and (except CachePatterns,
/// which owns its provider's connection) the same multiplexer. Rounds are interleaved; the median of each is reported
/// with its ratio to raw.
/// </summary>
public static class RedisThroughputRunner
{
    internal const int Callers = 64;
    private const int Rounds = 5;
    private static readonly TimeSpan RoundTime = TimeSpan.FromSeconds(2);

    /// <param name="output">Where the table goes.</param>
    /// <param name="args">Empty for the table; or a row number and seconds to run that row alone (for a profiler).</param>
    public static async Task<int> RunAsync(TextWriter output, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        await using var fixture = await RedisHitFixture.CreateAsync();
        using var provider = fixture.CreateProvider();
        var store = await RedisHitFixture.CreateWarmStoreAsync(provider);
        using var timeoutLike = new CancellationTokenSource();
        var rows = new (string Name, Func<ValueTask> Call)[]
        {
            ("raw SE.Redis StringGetAsync + STJ", async () => RedisHitFixture.Deserialize(await fixture.RawDatabase.StringGetAsync(RedisHitFixture.RawKey))),
            ("CachePatterns ICacheStrategy.GetAsync (Redis)", async () => await fixture.Strategy.GetAsync(RedisHitFixture.Key)),
            ("(layer) Redis provider store alone", async () => await store.GetAsync(RedisHitFixture.Key, false, default)),
            ("(layer) Redis provider store alone, cancellable token", async () => await store.GetAsync(RedisHitFixture.Key, false, timeoutLike.Token)),
            ("RedisCache GetAsync + STJ", async () => System.Text.Json.JsonSerializer.Deserialize<Product>((await fixture.Distributed.GetAsync(RedisHitFixture.StringKey))!)),
            ("FusionCache, distributed level only", async () => await fixture.Fusion.GetOrDefaultAsync<Product>("fusion:" + RedisHitFixture.StringKey, options: RedisHitFixture.FusionOptions)),
            ("HybridCache, DisableLocalCache", async () => await fixture.Hybrid.GetOrCreateAsync("hybrid:" + RedisHitFixture.StringKey, static _ => ValueTask.FromResult(Product.Sample), RedisHitFixture.HybridOptions)),
        };

        if (args.Count == 2)
        {
            var only = rows[int.Parse(args[0], CultureInfo.InvariantCulture)];
            var (rate, cpuPerOp) = await MeasureAsync(only.Call, TimeSpan.FromSeconds(double.Parse(args[1], CultureInfo.InvariantCulture)));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{only.Name}: {rate:N0} ops/s, {cpuPerOp:N1} µs client CPU per op"));
            return 0;
        }

        var results = rows.Select(_ => new List<double>()).ToArray();
        var cpu = rows.Select(_ => new List<double>()).ToArray();
        foreach (var (_, call) in rows)
        {
            await MeasureAsync(call, TimeSpan.FromMilliseconds(500));
        }

        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < rows.Length; i++)
            {
                var (rate, cpuPerOp) = await MeasureAsync(rows[i].Call, RoundTime);
                results[i].Add(rate);
                cpu[i].Add(cpuPerOp);
            }
        }

        output.WriteLine($"{Callers} concurrent callers on one warm key, {Rounds} interleaved rounds of {RoundTime.TotalSeconds:0} s, median ops/s; {Environment.ProcessorCount} cores, redis-server on the same machine.");
        output.WriteLine();
        output.WriteLine("| method | ops/s (median) | rounds | ratio to raw | client CPU per op (median) | CPU ratio to raw |");
        output.WriteLine("|---|---:|---|---:|---:|---:|");
        var raw = Median(results[0]);
        var rawCpu = Median(cpu[0]);
        for (var i = 0; i < rows.Length; i++)
        {
            var median = Median(results[i]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[i].Name} | {median:N0} | {string.Join(", ", results[i].Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | {median / raw:0.00} | {Median(cpu[i]):N1} µs | {Median(cpu[i]) / rawCpu:0.00} |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Runs <see cref="Callers"/> callers of <paramref name="call"/> in a loop for <paramref name="duration"/>: ops/s and process CPU per op.</summary>
    internal static async Task<(double OpsPerSecond, double CpuPerOp)> MeasureAsync(Func<ValueTask> call, TimeSpan duration)
    {
        long operations = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            long mine = 0;
            while (watch.Elapsed < duration)
            {
                await call();
                mine++;
            }

            Interlocked.Add(ref operations, mine);
        })).ToArray();
        await Task.WhenAll(callers);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        return (operations / watch.Elapsed.TotalSeconds, cpu.TotalMicroseconds / operations);
    }
}
