using System.Globalization;
using Microsoft.Extensions.Caching.Memory;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The <c>nearthroughput</c> mode: <see cref="RedisThroughputRunner.Callers"/> concurrent callers read one warm key from
/// every two-level cache's memory level for a fixed time, rounds interleaved; the median of each row with its ratio to
/// <c>IMemoryCache.TryGetValue</c> under the same callers, and the process CPU per read.
/// </summary>
public static class NearThroughputRunner
{
    private const int Rounds = 5;
    private static readonly TimeSpan RoundTime = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var fixture = await NearHitFixture.CreateAsync();
        var rows = new List<(string Name, Func<ValueTask> Call)>
        {
            ("IMemoryCache.TryGetValue (baseline)", () =>
            {
                _ = fixture.MemoryCache.TryGetValue(NearHitFixture.StringKey, out Product? _);
                return ValueTask.CompletedTask;
            }),
            ("CachePatterns ICacheStrategy.GetAsync (Redis + near cache)", async () => await fixture.Ours.Strategy.GetAsync(NearHitFixture.Key)),
        };
        rows.AddRange(fixture.Runners.Select(runner => (runner.Name + " read", (Func<ValueTask>)(async () => await runner.GetAsync(NearHitFixture.StringKey)))));

        var rates = rows.Select(_ => new List<double>()).ToArray();
        var cpu = rows.Select(_ => new List<double>()).ToArray();
        foreach (var (_, call) in rows)
        {
            await RedisThroughputRunner.MeasureAsync(call, TimeSpan.FromMilliseconds(500));
        }

        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                var (rate, cpuPerOp) = await RedisThroughputRunner.MeasureAsync(rows[i].Call, RoundTime);
                rates[i].Add(rate);
                cpu[i].Add(cpuPerOp);
            }
        }

        output.WriteLine($"{RedisThroughputRunner.Callers} concurrent callers on one warm key, {Rounds} interleaved rounds of {RoundTime.TotalSeconds:0} s, median; {Environment.ProcessorCount} cores, redis-server on the same machine.");
        output.WriteLine();
        output.WriteLine("| method | hits/s (median) | rounds | ratio to IMemoryCache | CPU per hit (median) |");
        output.WriteLine("|---|---:|---|---:|---:|");
        var baseline = Median(rates[0]);
        for (var i = 0; i < rows.Count; i++)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[i].Name} | {Median(rates[i]):N0} | {string.Join(", ", rates[i].Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | {Median(rates[i]) / baseline:0.00} | {Median(cpu[i]) * 1000:N0} ns |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
