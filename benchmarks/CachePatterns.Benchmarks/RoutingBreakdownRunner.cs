using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using CachePatterns.Routing;
using CachePatterns.Routing.PostgreSql;
using CachePatterns.Routing.Tests.Support;
using Dapper;
using Npgsql;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>routingparts</c> mode: where a routed read's time goes. The same replica read through variants that add one
/// piece of the router at a time (a second pool, the StateChange handler, the router's call shape, the router without
/// probes, the router whose probes share the application's pool as before they had their own), each case a batch of
/// sequential calls per round in a shuffled order; per-call wall time and process CPU time. It also shows how many server
/// backends a router's sequential reads run on, the bytes each case allocates per call, and how many physical connections
/// each pool opened.
/// </summary>
public static class RoutingBreakdownRunner
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

        // As the router was before probes had a pool of their own: a DataSourceFactory's data source serves both.
        var sharedOptions = Options(TimeSpan.FromSeconds(1));
        sharedOptions.DataSourceFactory = endpoint => Counted($"shared-{endpoint.Name}", endpoint.ConnectionString);
        sharedOptions.ConfigureNpgsql = null;
        await using var sharedPoolRouter = new RoutingDataSource(sharedOptions);
        await sharedPoolRouter.RefreshAsync();

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
            ("I router.QueryAsync, probes on the application's pool (before)", async i => await sharedPoolRouter.QueryAsync<int>(ReadSql, new { id = i })),
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
                    var cpuBefore = ProcessCpuTime.Nanoseconds();
                    var started = Stopwatch.GetTimestamp();
                    await cases[c].Run(n);
                    wall[c][n] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                    cpu[c][n] = (ProcessCpuTime.Nanoseconds() - cpuBefore) / 1000.0;
                }
            }
        }

        foreach (var (name, source) in new[] { ("router", router), ("router with probes on the application's pool", sharedPoolRouter) })
        {
            var backends = new List<int>();
            for (var i = 0; i < 100; i++)
            {
                await using var connection = await source.OpenReaderConnectionAsync();
                backends.Add(((NpgsqlConnection)connection).ProcessID);
            }

            output.WriteLine($"{name}: 100 sequential reads ran on {backends.Distinct().Count()} server backend(s), switching {backends.Zip(backends.Skip(1)).Count(p => p.First != p.Second)} times.");
        }

        foreach (var c in cases)
        {
            const int calls = 5_000;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < calls; i++)
            {
                await c.Run(i);
            }

            output.WriteLine($"{c.Name}: {(GC.GetTotalAllocatedBytes(precise: true) - before) / calls:N0} B allocated per call (whole process).");
        }

        output.WriteLine("Physical connections opened per data source: " + string.Join(", ", physical.Select(p => $"{p.Key}={p.Value}")));
        output.WriteLine($"Routed read, piece by piece: {Rounds} rounds after {WarmupCalls} warm-up calls per case; in each round every case runs {CallsPerRound} sequential calls, cases in a shuffled order. Per-call wall and process CPU (all threads). Ratios: per-round mean of the case / of case A; median and p25–p75 over rounds. Load average {RoutingRunner.LoadAverage()}.");
        output.WriteLine();
        output.WriteLine("| case | wall median | wall mean | wall ratio (p25–p75) | CPU median | CPU mean | CPU ratio (p25–p75) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        for (var c = 0; c < cases.Length; c++)
        {
            var wallRatios = RoundRatios(wall[c], wall[0]);
            var cpuRatios = RoundRatios(cpu[c], cpu[0]);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[c].Name} | {RoutingRunner.Percentile(wall[c], 0.5):0.0} µs | {wall[c].Average():0.0} µs | {RoutingRunner.Percentile(wallRatios, 0.5):0.000} ({RoutingRunner.Percentile(wallRatios, 0.25):0.000}–{RoutingRunner.Percentile(wallRatios, 0.75):0.000}) | {RoutingRunner.Percentile(cpu[c], 0.5):0.0} µs | {cpu[c].Average():0.0} µs | {RoutingRunner.Percentile(cpuRatios, 0.5):0.000} ({RoutingRunner.Percentile(cpuRatios, 0.25):0.000}–{RoutingRunner.Percentile(cpuRatios, 0.75):0.000}) |"));
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
}
