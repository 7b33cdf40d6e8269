using System.Globalization;
using CachePatterns.Routing;
using CachePatterns.Routing.Tests.Support;
using Dapper;
using MySqlConnector;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>routing-mariadb</c> mode, on throw-away MariaDB clusters (Debian's mariadb-server; a primary and one GTID replica
/// on loopback), as <see cref="RoutingRunner"/> does for PostgreSQL:
/// 1. the router's overhead per query against the same query on a direct <see cref="MySqlDataSource"/> to the same server,
///    routed and direct interleaved call by call (and in short batches), medians of the routed/direct ratios;
/// 2. failover: from killing the primary (SIGKILL) to the first successful write through the router, with the replica
///    promoted at once (<c>STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0</c>) and a write retried every 50 ms.
/// </summary>
public static class MariaDbRoutingRunner
{
    private const int Batch = 200;
    private const int WarmupRounds = 2;
    private const int Rounds = 100;
    private const int Epochs = 4;
    private const int PerCallPairs = 10_000;
    private const int FailoverRuns = 10;
    private const string ReadSql = "SELECT @id";
    private const string WriteSql = "UPDATE counters SET n = n + 1 WHERE id = 1";

    /// <summary>Runs the overhead and the failover measurements, or only the one named (<c>overhead</c>, <c>failover</c>).</summary>
    public static async Task<int> RunAsync(TextWriter output, string[] args)
    {
        ArgumentNullException.ThrowIfNull(output);
        var only = args.Length > 0 ? args[0] : null;
        if (only is null or "overhead")
        {
            await MeasureOverheadAsync(output);
            output.WriteLine();
        }

        if (only is null or "failover")
        {
            await MeasureFailoverAsync(output);
        }

        return 0;
    }

    private static async Task MeasureOverheadAsync(TextWriter output)
    {
        await using var cluster = await MariaDbCluster.StartAsync(TimeSpan.Zero);
        var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
        await primary.ExecuteAsync("CREATE TABLE counters (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counters VALUES (1, 0)");
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
        var subjects = await Subjects.CreateAsync(primary, replica);
        (string Name, Func<int, Task> Run)[] cases =
        [
            ("read: direct MySqlDataSource (replica, Connection Reset=false) + Dapper", async i =>
            {
                await using var connection = await subjects.DirectReplica.OpenConnectionAsync();
                await connection.QueryAsync<long>(ReadSql, new { id = i });
            }),
            ("read: router.QueryAsync (eventual, replica)", async i => await subjects.Router.QueryAsync<long>(ReadSql, new { id = i })),
            ("write: direct MySqlDataSource (primary) + Dapper", async _ =>
            {
                await using var connection = await subjects.DirectPrimary.OpenConnectionAsync();
                await connection.ExecuteAsync(WriteSql);
            }),
            ("write: router.ExecuteAsync (writer)", async _ => await subjects.Router.ExecuteAsync(WriteSql)),
        ];

        async Task NewEpochAsync()
        {
            await subjects.DisposeAsync();
            subjects = await Subjects.CreateAsync(primary, replica);
        }

        var loadBefore = RoutingRunner.LoadAverage();
        var wall = (await RoutingMeasurement.AlternatingBatchesAsync(cases, NewEpochAsync, Epochs, Rounds, WarmupRounds, Batch)).Wall;

        output.WriteLine($"MariaDB routing overhead, batches: {Rounds} rounds of {Batch} sequential calls per case in {Epochs} epochs (new data sources and router each), direct and routed batches alternating; load average {loadBefore} before, {RoutingRunner.LoadAverage()} after.");
        output.WriteLine();
        output.WriteLine("| pair | direct wall median | routed wall median | per-round ratio median (95 % CI) | rounds routed ≤ 1.05× direct |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        for (var pair = 0; pair < cases.Length; pair += 2)
        {
            var ratios = Enumerable.Range(0, Rounds).Select(r => wall[pair + 1][r] / wall[pair][r]).ToArray();
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[pair].Name.Split(':')[0]} | {RoutingRunner.Percentile(wall[pair], 0.5):0.0} µs | {RoutingRunner.Percentile(wall[pair + 1], 0.5):0.0} µs | {RoutingRunner.MedianWithInterval(ratios)} | {ratios.Count(r => r <= 1.05)} of {Rounds} |"));
        }

        output.WriteLine();
        loadBefore = RoutingRunner.LoadAverage();
        var calls = (await RoutingMeasurement.AlternatingCallsAsync(cases, NewEpochAsync, Epochs, PerCallPairs)).Wall;
        await subjects.DisposeAsync();
        output.WriteLine($"MariaDB routing overhead, per call: {PerCallPairs:N0} adjacent direct/routed pairs per case pair in {Epochs} epochs; load average {loadBefore} before, {RoutingRunner.LoadAverage()} after.");
        output.WriteLine();
        output.WriteLine("| pair | direct wall median | routed wall median | ratio of medians | per-pair ratio median (95 % CI) |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        for (var pair = 0; pair < cases.Length; pair += 2)
        {
            var ratios = Enumerable.Range(0, PerCallPairs).Select(n => calls[pair + 1][n] / calls[pair][n]).ToArray();
            var (direct, routed) = (RoutingRunner.Percentile(calls[pair], 0.5), RoutingRunner.Percentile(calls[pair + 1], 0.5));
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[pair].Name.Split(':')[0]} | {direct:0.0} µs | {routed:0.0} µs | {routed / direct:0.000} | {RoutingRunner.MedianWithInterval(ratios)} |"));
        }
    }

    private static async Task MeasureFailoverAsync(TextWriter output)
    {
        output.WriteLine($"MariaDB failover: {FailoverRuns} runs, each on a new cluster (primary + replica); ProbeInterval 1 s, ProbeTimeout 1 s, FailuresBeforeEjection 2; a write is retried every 50 ms; load average {RoutingRunner.LoadAverage()} at start.");
        output.WriteLine();
        output.WriteLine("| run | kill -> promoted | promoted -> first successful write | kill -> first successful write | failed attempts |");
        output.WriteLine("|---:|---:|---:|---:|---:|");
        var totals = new List<double>();
        for (var run = 1; run <= FailoverRuns; run++)
        {
            await using var cluster = await MariaDbCluster.StartAsync(TimeSpan.Zero);
            var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
            await primary.ExecuteAsync("CREATE TABLE counters (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counters VALUES (1, 0)");
            await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));
            await using var router = new RoutingDataSource(new RoutingOptions
            {
                Engine = RoutingEngine.MySql,
                ConnectionString = cluster.HostList,
                ProbeInterval = TimeSpan.FromSeconds(1),
                ProbeTimeout = TimeSpan.FromSeconds(1),
                FailuresBeforeEjection = 2,
            });
            await router.ExecuteAsync(WriteSql);
            await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

            var failover = await RoutingMeasurement.FailoverAsync(primary.KillAsync, replica.PromoteAsync, async () => await router.ExecuteAsync(WriteSql));
            totals.Add(failover.FirstWrite.TotalMilliseconds);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {run} | {failover.Promoted.TotalMilliseconds:0} ms | {(failover.FirstWrite - failover.Promoted).TotalMilliseconds:0} ms | {failover.FirstWrite.TotalMilliseconds:0} ms | {failover.FailedAttempts} |"));
        }

        var all = totals.ToArray();
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kill -> first write: median {RoutingRunner.Percentile(all, 0.5):0} ms, min {all.Min():0} ms, max {all.Max():0} ms over {all.Length} runs."));
    }

    /// <summary>What one epoch measures: direct data sources to the replica and the primary, and a router over both with its defaults.</summary>
    private sealed class Subjects(MySqlDataSource directReplica, MySqlDataSource directPrimary, RoutingDataSource router) : IAsyncDisposable
    {
        public MySqlDataSource DirectReplica => directReplica;

        public MySqlDataSource DirectPrimary => directPrimary;

        public RoutingDataSource Router => router;

        public static async Task<Subjects> CreateAsync(MariaDbNode primary, MariaDbNode replica)
        {
            var options = new RoutingOptions { Engine = RoutingEngine.MySql };
            options.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = primary.ConnectionString, Role = EndpointRole.Writer });
            options.Endpoints.Add(new RoutingEndpointOptions { ConnectionString = replica.ConnectionString, Role = EndpointRole.Reader });
            var router = new RoutingDataSource(options);
            await router.RefreshAsync();
            // The router's read pool keeps sessions between uses (ConnectionReset=false, so their read-only mode needs no
            // statement per read); the direct reads do the same, so the comparison is of the router, not of the pool setting.
            // With MySqlConnector's default reset on every open, direct reads took twice as long (docs/benchmarks.md).
            return new Subjects(new MySqlDataSource(replica.ConnectionString + ";Connection Reset=false"), new MySqlDataSource(primary.ConnectionString), router);
        }

        public async ValueTask DisposeAsync()
        {
            await router.DisposeAsync();
            await directReplica.DisposeAsync();
            await directPrimary.DisposeAsync();
        }
    }
}
