using System.Diagnostics;
using System.Globalization;
using CachePatterns.Routing;
using CachePatterns.Routing.Tests.Support;
using Dapper;
using Npgsql;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>routing</c> mode, on a throw-away PostgreSQL 15 cluster (a primary and one replica on loopback):
/// 1. the router's overhead per query against the same query on a direct <see cref="NpgsqlDataSource"/> to the same
///    server, direct and routed batches interleaved round by round in one process (medians and quartiles of the
///    per-round means and of the per-round routed/direct ratios);
/// 2. failover time: from stopping the primary (immediate, like a crash) to the first successful write through the
///    router, with the replica promoted at once and the application retrying a write every 50 ms; probe interval 1 s.
/// </summary>
public static class RoutingRunner
{
    private const int Batch = 250;
    private const int WarmupRounds = 2;
    private const int Rounds = 200;
    private const int PerCallPairs = 20_000;
    private const int Epochs = 8;
    private const int FailoverRuns = 3;
    private const string ReadSql = "SELECT @id::int";
    private const string WriteSql = "UPDATE counters SET n = n + 1 WHERE id = 1";

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        await MeasureInProcessCostAsync(output);
        output.WriteLine();
        await MeasureOverheadAsync(output);
        output.WriteLine();
        await MeasureFailoverAsync(output);
        return 0;
    }

    private static async Task MeasureOverheadAsync(TextWriter output)
    {
        await using var cluster = await PgCluster.StartAsync(TimeSpan.Zero);
        var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
        await primary.ExecuteAsync("CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL); INSERT INTO counters VALUES (1, 0)");
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        var subjects = await Subjects.CreateAsync(primary, replica);
        (string Name, Func<int, Task> Run)[] cases =
        [
            ("read: direct NpgsqlDataSource (replica) + Dapper", async i =>
            {
                await using var connection = await subjects.DirectReplica.OpenConnectionAsync();
                await connection.QueryAsync<int>(ReadSql, new { id = i });
            }),
            ("read: router.QueryAsync (eventual, replica)", async i => await subjects.Router.QueryAsync<int>(ReadSql, new { id = i })),
            ("write: direct NpgsqlDataSource (primary) + Dapper", async _ =>
            {
                await using var connection = await subjects.DirectPrimary.OpenConnectionAsync();
                await connection.ExecuteAsync(WriteSql);
            }),
            ("write: router.ExecuteAsync (writer)", async _ => await subjects.Router.ExecuteAsync(WriteSql)),
        ];

        // Short batches alternate within each pair (direct, routed, routed, direct, ...) so both sides see the same
        // drifting load, and each routed batch is compared with the direct batch of its own round. Wall time per call is
        // what the application sees; the process's CPU time per call (client side: the router, Npgsql, Dapper, the
        // thread pool) is what the router adds to. CPU time comes from CLOCK_PROCESS_CPUTIME_ID (nanoseconds).
        async Task NewEpochAsync()
        {
            await subjects.DisposeAsync();
            subjects = await Subjects.CreateAsync(primary, replica);
        }

        var loadBefore = LoadAverage();
        var (wall, cpu) = await RoutingMeasurement.AlternatingBatchesAsync(cases, NewEpochAsync, Epochs, Rounds, WarmupRounds, Batch);

        output.WriteLine($"Routing overhead: {Rounds} rounds of {Batch} sequential calls per case in {Epochs} epochs (each on new data sources and a new router, after {WarmupRounds} warm-up rounds), direct and routed batches alternating; per-round means; load average {loadBefore} before, {LoadAverage()} after.");
        output.WriteLine();
        output.WriteLine("| case | wall median | wall p25–p75 | client CPU median | CPU p25–p75 |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        for (var c = 0; c < cases.Length; c++)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[c].Name} | {Percentile(wall[c], 0.5):0.0} µs | {Percentile(wall[c], 0.25):0.0}–{Percentile(wall[c], 0.75):0.0} µs | {Percentile(cpu[c], 0.5):0.0} µs | {Percentile(cpu[c], 0.25):0.0}–{Percentile(cpu[c], 0.75):0.0} µs |"));
        }

        output.WriteLine();
        output.WriteLine("Routed / direct, per round (the two batches of one round ran back to back):");
        output.WriteLine();
        output.WriteLine("| pair | wall ratio median (95 % CI) | wall ratio p25–p75 | CPU ratio median (95 % CI) | CPU ratio p25–p75 | rounds routed ≤ 1.05× direct (wall) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (var pair = 0; pair < cases.Length; pair += 2)
        {
            var wallRatios = Enumerable.Range(0, Rounds).Select(r => wall[pair + 1][r] / wall[pair][r]).ToArray();
            var cpuRatios = Enumerable.Range(0, Rounds).Select(r => cpu[pair + 1][r] / cpu[pair][r]).ToArray();
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[pair].Name.Split(':')[0]} | {MedianWithInterval(wallRatios)} | {Percentile(wallRatios, 0.25):0.000}–{Percentile(wallRatios, 0.75):0.000} | {MedianWithInterval(cpuRatios)} | {Percentile(cpuRatios, 0.25):0.000}–{Percentile(cpuRatios, 0.75):0.000} | {wallRatios.Count(r => r <= 1.05)} of {Rounds} |"));
        }

        output.WriteLine();
        await MeasurePerCallAsync(output, cases, NewEpochAsync);
        await subjects.DisposeAsync();
    }

    /// <summary>
    /// The same pairs with the alternation per call (direct, routed, routed, direct, ...): each routed call is compared
    /// with the direct call next to it, so load drifts cancel at the finest grain. Both sides switch pools at every call.
    /// </summary>
    private static async Task MeasurePerCallAsync(TextWriter output, (string Name, Func<int, Task> Run)[] cases, Func<Task> newEpoch)
    {
        var loadBefore = LoadAverage();
        var (wall, cpu) = await RoutingMeasurement.AlternatingCallsAsync(cases, newEpoch, Epochs, PerCallPairs);

        output.WriteLine($"Per-call alternation: {PerCallPairs:N0} pairs per case pair in {Epochs} epochs as above (each after {PerCallPairs / Epochs / 10:N0} warm-up pairs), direct and routed calls alternating one by one; load average {loadBefore} before, {LoadAverage()} after. Ratio of the medians; per-pair ratio: median of routed / direct over adjacent calls.");
        output.WriteLine();
        output.WriteLine("| pair | direct wall median | routed wall median | wall ratio of medians | per-pair wall ratio median (95 % CI) | direct CPU median | routed CPU median | CPU ratio of medians |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (var pair = 0; pair < cases.Length; pair += 2)
        {
            var pairRatios = Enumerable.Range(0, PerCallPairs).Select(n => wall[pair + 1][n] / wall[pair][n]).ToArray();
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[pair].Name.Split(':')[0]} | {Percentile(wall[pair], 0.5):0.0} µs | {Percentile(wall[pair + 1], 0.5):0.0} µs | {Percentile(wall[pair + 1], 0.5) / Percentile(wall[pair], 0.5):0.000} | {MedianWithInterval(pairRatios)} | {Percentile(cpu[pair], 0.5):0.0} µs | {Percentile(cpu[pair + 1], 0.5):0.0} µs | {Percentile(cpu[pair + 1], 0.5) / Percentile(cpu[pair], 0.5):0.000} |"));
        }
    }

    /// <summary>
    /// The median with its distribution-free 95 % confidence interval: the order statistics n/2 ± 0.98·√n (no assumption on
    /// the distribution, which on a shared machine has long tails).
    /// </summary>
    internal static string MedianWithInterval(double[] values)
    {
        var sorted = values.Order().ToArray();
        var half = 0.98 * Math.Sqrt(sorted.Length);
        var low = sorted[Math.Max(0, (int)Math.Floor((sorted.Length / 2.0) - half))];
        var high = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling((sorted.Length / 2.0) + half))];
        return string.Create(CultureInfo.InvariantCulture, $"{Percentile(values, 0.5):0.000} ({low:0.000}–{high:0.000})");
    }

    /// <summary>The 1, 5 and 15 minute load averages, as <c>uptime</c> shows them.</summary>
    internal static string LoadAverage() =>
        string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>
    /// The router's own work per connection (choosing the endpoint, tracking it, the async layers), measured on data
    /// sources that do no I/O, against opening and closing the same fake connection directly. Rounds interleaved.
    /// </summary>
    private static async Task MeasureInProcessCostAsync(TextWriter output)
    {
        const int batch = 50_000;
        const int rounds = 40;
        await using var cluster = new FakeCluster(["p", "r1", "r2"]);
        cluster.Probe.Primary("p").Replica("r1").Replica("r2");
        await cluster.Router.RefreshAsync();
        var direct = cluster.Sources["r1"];
        (string Name, Func<Task> Run)[] cases =
        [
            ("open + close, direct", async () =>
            {
                await using var connection = direct.CreateConnection();
                await connection.OpenAsync();
            }),
            ("open + close, router reader (eventual)", async () =>
            {
                await using var connection = await cluster.Router.OpenReaderConnectionAsync();
            }),
            ("open + close, router writer", async () =>
            {
                await using var connection = await cluster.Router.OpenWriterConnectionAsync();
            }),
        ];
        var times = cases.Select(_ => new double[rounds]).ToArray();
        for (var round = -5; round < rounds; round++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < batch; i++)
                {
                    await cases[c].Run();
                }

                if (round >= 0)
                {
                    times[c][round] = Stopwatch.GetElapsedTime(started).TotalNanoseconds / batch;
                }
            }
        }

        output.WriteLine($"Router's own cost per connection, no I/O: {rounds} rounds of {batch:N0} calls per case (after 5 warm-up rounds), cases interleaved; median of the per-round means.");
        output.WriteLine();
        output.WriteLine("| case | median | extra over direct |");
        output.WriteLine("|---|---:|---:|");
        var baseline = Percentile(times[0], 0.5);
        foreach (var (c, name) in cases.Select((x, i) => (i, x.Name)))
        {
            var median = Percentile(times[c], 0.5);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {median:0} ns | {median - baseline:0} ns |"));
        }
    }

    private static async Task MeasureFailoverAsync(TextWriter output)
    {
        output.WriteLine($"Failover: {FailoverRuns} runs, each on a new cluster; ProbeInterval 1 s, ProbeTimeout 1 s, FailuresBeforeEjection 2; a write is retried every 50 ms.");
        output.WriteLine();
        output.WriteLine("| run | stop -> promoted (pg_ctl promote -w) | promoted -> first successful write | stop -> first successful write | failed attempts |");
        output.WriteLine("|---:|---:|---:|---:|---:|");
        for (var run = 1; run <= FailoverRuns; run++)
        {
            await using var cluster = await PgCluster.StartAsync(TimeSpan.Zero);
            var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
            await primary.ExecuteAsync("CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL); INSERT INTO counters VALUES (1, 0)");
            await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
            await using var router = new RoutingDataSource(new RoutingOptions
            {
                ConnectionString = cluster.HostList,
                ProbeInterval = TimeSpan.FromSeconds(1),
                ProbeTimeout = TimeSpan.FromSeconds(1),
                FailuresBeforeEjection = 2,
            });
            await router.ExecuteAsync(WriteSql);

            var failover = await RoutingMeasurement.FailoverAsync(primary.KillAsync, replica.PromoteAsync, async () => await router.ExecuteAsync(WriteSql));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {run} | {failover.Promoted.TotalMilliseconds:0} ms | {(failover.FirstWrite - failover.Promoted).TotalMilliseconds:0} ms | {failover.FirstWrite.TotalMilliseconds:0} ms | {failover.FailedAttempts} |"));
        }
    }

    internal static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }

    /// <summary>What one epoch measures: direct data sources to the replica and the primary, and a router over both with its defaults.</summary>
    private sealed class Subjects(NpgsqlDataSource directReplica, NpgsqlDataSource directPrimary, RoutingDataSource router) : IAsyncDisposable
    {
        public NpgsqlDataSource DirectReplica => directReplica;

        public NpgsqlDataSource DirectPrimary => directPrimary;

        public RoutingDataSource Router => router;

        public static async Task<Subjects> CreateAsync(PgNode primary, PgNode replica)
        {
            var options = new RoutingOptions();
            options.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = primary.ConnectionString, Role = EndpointRole.Writer });
            options.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = replica.ConnectionString, Role = EndpointRole.Reader });
            var router = new RoutingDataSource(options);
            await router.RefreshAsync();
            return new Subjects(NpgsqlDataSource.Create(replica.ConnectionString), NpgsqlDataSource.Create(primary.ConnectionString), router);
        }

        public async ValueTask DisposeAsync()
        {
            await router.DisposeAsync();
            await directReplica.DisposeAsync();
            await directPrimary.DisposeAsync();
        }
    }
}
