using System.Diagnostics;
using System.Globalization;
using CachePatterns.Providers;
using CachePatterns.Redis;
using CachePatterns.Serialization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>redislayers</c> mode: time per sequential hit for each layer of the Redis hit path, interleaved round by
/// round so that load drift hits every row alike: raw StackExchange.Redis on the raw multiplexer and on one configured
/// like the provider's, the raw read under a cancellable token, the provider's store alone, and the strategy.
/// </summary>
public static class RedisLayerTimingRunner
{
    private const int Rounds = 25;
    private const int CallsPerRound = 2_000;

    /// <param name="output">Where the table goes.</param>
    /// <param name="args">Empty for the table; or a row number and a call count to run that row alone (for <c>perf stat</c>).</param>
    public static async Task<int> RunAsync(TextWriter output, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        await using var fixture = await RedisHitFixture.CreateAsync();
        using var provider = fixture.CreateProvider();
        var store = await RedisHitFixture.CreateWarmStoreAsync(provider);

        var configuration = ConfigurationOptions.Parse(fixture.Server.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AllowAdmin = true;
        await using var providerLike = await ConnectionMultiplexer.ConnectAsync(configuration);
        var providerLikeDb = providerLike.GetDatabase();
        using var cancellable = new CancellationTokenSource();

        var rows = new (string Name, Func<ValueTask> Call)[]
        {
            ("raw SE.Redis StringGetAsync + STJ", async () => RedisHitFixture.Deserialize(await fixture.RawDatabase.StringGetAsync(RedisHitFixture.RawKey))),
            ("raw, multiplexer configured like the provider's", async () => RedisHitFixture.Deserialize(await providerLikeDb.StringGetAsync(RedisHitFixture.RawKey))),
            ("raw + WaitAsync(cancellable token)", async () => RedisHitFixture.Deserialize(await fixture.RawDatabase.StringGetAsync(RedisHitFixture.RawKey).WaitAsync(cancellable.Token))),
            ("provider store GetAsync alone", async () => await store.GetAsync(RedisHitFixture.Key, false, default)),
            ("provider store GetAsync, cancellable token", async () => await store.GetAsync(RedisHitFixture.Key, false, cancellable.Token)),
            ("ICacheStrategy.GetAsync (store + resilience + strategy)", async () => await fixture.Strategy.GetAsync(RedisHitFixture.Key)),
        };

        if (args.Count == 2)
        {
            var only = rows[int.Parse(args[0], CultureInfo.InvariantCulture)];
            var calls = int.Parse(args[1], CultureInfo.InvariantCulture);
            for (var i = 0; i < 5_000; i++)
            {
                await only.Call();
            }

            var server = providerLike.GetServer(providerLike.GetEndPoints()[0]);
            await server.ConfigResetStatisticsAsync();
            var serverBefore = ServerCpu(await server.InfoRawAsync("cpu"));
            var processBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
            {
                await only.Call();
            }

            var wall = watch.Elapsed;
            var process = Process.GetCurrentProcess().TotalProcessorTime - processBefore;
            var serverCpu = ServerCpu(await server.InfoRawAsync("cpu")) - serverBefore;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{only.Name}: {calls} calls, wall {wall.TotalMicroseconds / calls:N1} µs, client CPU {process.TotalMicroseconds / calls:N1} µs, redis-server CPU {serverCpu * 1e6 / calls:N1} µs per call"));
            output.WriteLine(await server.InfoRawAsync("commandstats"));
            return 0;
        }

        var means = new double[rows.Length][];
        for (var r = 0; r < rows.Length; r++)
        {
            means[r] = new double[Rounds];
            for (var i = 0; i < CallsPerRound; i++)
            {
                await rows[r].Call();
            }
        }

        for (var round = 0; round < Rounds; round++)
        {
            for (var r = 0; r < rows.Length; r++)
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < CallsPerRound; i++)
                {
                    await rows[r].Call();
                }

                means[r][round] = watch.Elapsed.TotalMicroseconds / CallsPerRound;
            }
        }

        var baseline = Median(means[0]);
        output.WriteLine("| path | median of round means | p25–p75 | ratio to raw |");
        output.WriteLine("|---|---:|---:|---:|");
        for (var r = 0; r < rows.Length; r++)
        {
            var sorted = means[r].Order().ToArray();
            var median = Median(means[r]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[r].Name} | {median:N1} µs | {sorted[Rounds / 4]:N1}–{sorted[Rounds * 3 / 4]:N1} µs | {median / baseline:N2} |"));
        }

        await WritePairedAsync(output, rows[0], rows[3], rows[^1]);
        return 0;
    }

    /// <summary>
    /// Raw, store and strategy hits alternated call by call (the order rotating), so load drift reaches all three
    /// alike; the medians of the single-call times and the median of the per-triple ratios.
    /// </summary>
    private static async Task WritePairedAsync(TextWriter output, params (string Name, Func<ValueTask> Call)[] rows)
    {
        const int Triples = 30_000;
        var times = rows.Select(_ => new double[Triples]).ToArray();
        for (var i = 0; i < Triples; i++)
        {
            for (var j = 0; j < rows.Length; j++)
            {
                var r = (i + j) % rows.Length;
                var started = Stopwatch.GetTimestamp();
                await rows[r].Call();
                times[r][i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Alternating call by call ({Triples:N0} rounds, order rotating):"));
        output.WriteLine();
        output.WriteLine("| path | median call | p25–p75 | ratio of medians | median of per-round ratios |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        var baseline = Median(times[0]);
        for (var r = 0; r < rows.Length; r++)
        {
            var sorted = times[r].Order().ToArray();
            var ratios = times[r].Zip(times[0], (t, raw) => t / raw).ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[r].Name} | {Median(times[r]):N1} µs | {sorted[Triples / 4]:N1}–{sorted[Triples * 3 / 4]:N1} µs | {Median(times[r]) / baseline:N3} | {Median(ratios):N3} |"));
        }
    }

    /// <summary>redis-server's user + system CPU seconds from <c>INFO cpu</c>.</summary>
    internal static double ServerCpu(string? info) =>
        (info ?? string.Empty).Split('\n')
            .Where(line => line.StartsWith("used_cpu_sys:", StringComparison.Ordinal) || line.StartsWith("used_cpu_user:", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture));

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
