using System.Globalization;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The <c>nearcheck</c> mode: the two-process consistency checker of the Redis tests (two <c>CachePatterns.ConsistencyHost</c>
/// processes, writers and readers in both, two hot keys, loads slower than writes) run for CachePatterns with its near
/// cache, an unfenced near cache with invalidation messages (the naive variant) and FusionCache (memory + Redis +
/// backplane, cache-aside with <c>RemoveAsync</c> after each database write); each plain and with process b's connection
/// cut by a relay for 1 s midway. Counts, not assertions: the peers' stale reads are the figure.
/// </summary>
public static class NearConsistencyRunner
{
    private static readonly CheckerOptions Hot = new(Keys: 2, Writers: 2, Readers: 4, OperationsPerWorker: 600);

    /// <param name="output">Where the table goes.</param>
    /// <param name="args">Optional: rounds per row (default 3), then the kinds to run (CacheAside, WriteThrough, NaiveNear, Fusion; default all).</param>
    public static async Task<int> RunAsync(TextWriter output, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        var rounds = args.Count > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var loadBefore = InvalidationDelayRunner.LoadAverage();
        using var server = RedisBenchServer.Start();
        var rows = new (string Name, string Kind, bool Near, bool[] Cuts)[]
        {
            ("CachePatterns cache-aside + near cache", nameof(CacheStrategyKind.CacheAside), true, [false, true]),
            ("CachePatterns write-through + near cache", nameof(CacheStrategyKind.WriteThrough), true, [false, true]),

            // Not cut: its hand-written invalidation bus has no outage handling at all, which is not what this row shows.
            ("unfenced near cache + invalidation messages (naive)", "NaiveNear", false, [false]),
            ("FusionCache memory + Redis + backplane", "Fusion", false, [false, true]),
        };
        if (args.Count > 1)
        {
            rows = [.. rows.Where(r => args.Skip(1).Contains(r.Kind, StringComparer.Ordinal))];
        }

        output.WriteLine($"Two processes on one loopback redis-server, per process {Hot.Writers} writers and {Hot.Readers} readers of {Hot.OperationsPerWorker}+ operations on {Hot.Keys} keys; {rounds} rounds per row; {Environment.ProcessorCount} cores.");
        output.WriteLine();
        output.WriteLine("| stack | fault | reads | reads older than a finished write (per round) | window (max) | stale entries at quiescence (L1 + Redis, per round) | writes deferred |");
        output.WriteLine("|---|---|---:|---|---:|---|---:|");
        foreach (var (name, kind, near, cuts) in rows)
        {
            foreach (var cut in cuts)
            {
                var reports = new List<CheckerReport>();
                for (var round = 0; round < rounds; round++)
                {
                    using var relay = new TcpProxy(server.Port);
                    reports.Add(await ConsistencyHostRun.RunAsync("redis", server.Configuration, kind, Hot, maxDelayMicroseconds: 500, new HostRunOptions(
                        Near: near,
                        ServersOfSecondProcess: cut ? $"127.0.0.1:{relay.Port}" : null,
                        AtMidway: cut ? async () =>
                        {
                            relay.Cut();
                            await Task.Delay(TimeSpan.FromSeconds(1));
                            relay.Restore();
                        }
                        : null)));
                }

                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {name} | {(cut ? "b cut 1 s midway" : "none")} | {reports.Sum(r => r.Reads):N0} | {string.Join(", ", reports.Select(r => r.OlderThanCompletedWrite))} | {reports.Max(r => r.WindowMilliseconds):0.0} ms | {string.Join(", ", reports.Select(r => r.StaleEntries.Count))} | {reports.Sum(r => r.WritesDeferred)} |"));
            }
        }

        output.WriteLine();
        output.WriteLine($"Load average {loadBefore} → {InvalidationDelayRunner.LoadAverage()}.");
        return 0;
    }
}
