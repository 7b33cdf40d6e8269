using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CachePatterns.Routing;
using CachePatterns.Routing.PostgreSql;
using CachePatterns.Routing.Tests.Support;
using Dapper;
using Npgsql;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>routingparts</c> mode: where a routed read's time goes. The same replica read through variants that add one
/// piece of the router at a time, calls alternating one by one in a shuffled order, per-call wall time and per-call process
/// CPU time (<c>CLOCK_PROCESS_CPUTIME_ID</c>, nanosecond resolution, all threads).
/// </summary>
public static partial class RoutingBreakdownRunner
{
    private const int Rounds = 30;
    private const int CallsPerRound = 300;
    private const int WarmupCalls = 1_000;
    private const string ReadSql = "SELECT @id::int";

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var cluster = await PgCluster.StartAsync(TimeSpan.Zero);
        var (primary, replica) = (cluster.Nodes[0], cluster.Nodes[1]);
        await cluster.WaitForReplicasAsync(TimeSpan.FromSeconds(60));

        var physical = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        NpgsqlDataSource Counted(string name, string connectionString)
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.UsePhysicalConnectionInitializer(_ => physical.AddOrUpdate(name, 1, (_, n) => n + 1), _ => { physical.AddOrUpdate(name, 1, (_, n) => n + 1); return Task.CompletedTask; });
            return builder.Build();
        }

        await using var direct = Counted("A", replica.ConnectionString);
        await using var direct2 = Counted("A2", replica.ConnectionString);
        var routers = 0;
        RoutingOptions Options(TimeSpan probeInterval)
        {
            var router = ++routers;
            void Count(NpgsqlConnection connection) =>
                physical.AddOrUpdate($"router{router}-{connection.Port}{(new NpgsqlConnectionStringBuilder(connection.ConnectionString).MaxPoolSize == 1 ? "-probes" : string.Empty)}", 1, (_, n) => n + 1);
            var options = new RoutingOptions
            {
                ProbeInterval = probeInterval,
                ConfigureNpgsql = (_, builder) => builder.UsePhysicalConnectionInitializer(Count, c => { Count(c); return Task.CompletedTask; }),
            };
            options.Endpoints.Add(new RoutingEndpointOptions { Name = "primary", ConnectionString = primary.ConnectionString, Role = EndpointRole.Writer });
            options.Endpoints.Add(new RoutingEndpointOptions { Name = "replica", ConnectionString = replica.ConnectionString, Role = EndpointRole.Reader });
            return options;
        }

        await using var router = new RoutingDataSource(Options(TimeSpan.FromSeconds(1)));
        await router.RefreshAsync();
        await using var quietRouter = new RoutingDataSource(Options(TimeSpan.FromHours(1)));
        await quietRouter.RefreshAsync();

        (string Name, Func<int, Task> Run)[] cases =
        [
            ("A direct NpgsqlDataSource.Create + Dapper", async i =>
            {
                await using var connection = await direct.OpenConnectionAsync();
                await connection.QueryAsync<int>(ReadSql, new { id = i });
            }),
            ("A2 second NpgsqlDataSource.Create", async i =>
            {
                await using var connection = await direct2.OpenConnectionAsync();
                await connection.QueryAsync<int>(ReadSql, new { id = i });
            }),
            ("C direct + StateChange handler", async i =>
            {
                await using var connection = direct.CreateConnection();
                var open = false;
                connection.StateChange += (_, e) => open = e.CurrentState == ConnectionState.Open;
                await connection.OpenAsync();
                await connection.QueryAsync<int>(ReadSql, new { id = i });
            }),
            ("D direct, router's call shape", i => RouterShapeAsync(direct, i).AsTask()),
            ("F router.OpenReaderConnectionAsync + Dapper", async i =>
            {
                await using var connection = await router.OpenReaderConnectionAsync();
                await connection.QueryAsync<int>(ReadSql, new { id = i });
            }),
            ("G router.QueryAsync", async i => await router.QueryAsync<int>(ReadSql, new { id = i })),
            ("H router.QueryAsync, probes off", async i => await quietRouter.QueryAsync<int>(ReadSql, new { id = i })),
        ];

        for (var i = 0; i < WarmupCalls; i++)
        {
            foreach (var c in cases)
            {
                await c.Run(i);
            }
        }

        var wall = cases.Select(_ => new double[Rounds * CallsPerRound]).ToArray();
        var cpu = cases.Select(_ => new double[Rounds * CallsPerRound]).ToArray();
        var order = Enumerable.Range(0, cases.Length).ToArray();
        var random = new Random(42);
        for (var round = 0; round < Rounds; round++)
        {
            random.Shuffle(order);
            foreach (var c in order)
            {
                for (var k = 0; k < CallsPerRound; k++)
                {
                    var n = (round * CallsPerRound) + k;
                    var cpuBefore = ProcessCpuNanoseconds();
                    var started = Stopwatch.GetTimestamp();
                    await cases[c].Run(n);
                    wall[c][n] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                    cpu[c][n] = (ProcessCpuNanoseconds() - cpuBefore) / 1000.0;
                }
            }
        }

        output.WriteLine("Physical connections opened per data source: " + string.Join(", ", physical.Select(p => $"{p.Key}={p.Value}")));
        output.WriteLine($"Routed read, piece by piece: {Rounds} rounds of {CallsPerRound} calls per case after {WarmupCalls} warm-up calls, one call of each case in a shuffled order at a time. Per-call wall and process CPU (all threads). Ratios: per-round mean of the case / of case A; median and p25–p75 over rounds.");
        output.WriteLine();
        output.WriteLine("| case | wall median | wall mean | wall ratio (p25–p75) | CPU median | CPU mean | CPU ratio (p25–p75) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        for (var c = 0; c < cases.Length; c++)
        {
            var wallRatios = RoundRatios(wall[c], wall[0]);
            var cpuRatios = RoundRatios(cpu[c], cpu[0]);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[c].Name} | {Percentile(wall[c], 0.5):0.0} µs | {wall[c].Average():0.0} µs | {Percentile(wallRatios, 0.5):0.000} ({Percentile(wallRatios, 0.25):0.000}–{Percentile(wallRatios, 0.75):0.000}) | {Percentile(cpu[c], 0.5):0.0} µs | {cpu[c].Average():0.0} µs | {Percentile(cpuRatios, 0.5):0.000} ({Percentile(cpuRatios, 0.25):0.000}–{Percentile(cpuRatios, 0.75):0.000}) |"));
        }

        return 0;
    }

    private static async ValueTask<IReadOnlyList<int>> RouterShapeAsync(NpgsqlDataSource source, int i)
    {
        Func<DbConnection, CancellationToken, Task<IReadOnlyList<int>>> work = async (connection, ct) =>
            (await connection.QueryAsync<int>(new CommandDefinition(ReadSql, new { id = i }, cancellationToken: ct)).ConfigureAwait(false)).AsList();
        DbConnection connection = source.CreateConnection();
        await connection.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await work(connection, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static double[] RoundRatios(double[] values, double[] baseline) =>
        [.. Enumerable.Range(0, Rounds).Select(r => values.AsSpan(r * CallsPerRound, CallsPerRound).ToArray().Average() / baseline.AsSpan(r * CallsPerRound, CallsPerRound).ToArray().Average())];

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }

    private static long ProcessCpuNanoseconds()
    {
        const int clockProcessCpuTimeId = 2;
        return ClockGetTime(clockProcessCpuTimeId, out var time) == 0 ? (time.Seconds * 1_000_000_000) + time.Nanoseconds : 0;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
