using System.Diagnostics;
using CachePatterns.Routing;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The measuring loops of the routing runners (<see cref="RoutingRunner"/> on PostgreSQL, <see cref="MariaDbRoutingRunner"/>
/// on MariaDB), written once so both engines' figures mean the same. Overhead: the cases come in pairs (direct, routed);
/// each pair is measured on its own in epochs, every epoch begun by <c>newEpoch</c> (new data sources and router, so new
/// server backends wherever the scheduler puts them), and within an epoch the two cases alternate (direct, routed, routed,
/// direct, ...) so both see the same drifting load. Failover: from the primary's kill to the first write that succeeds.
/// </summary>
public static class RoutingMeasurement
{
    /// <summary>
    /// Alternating batches: per round, a batch of <paramref name="batch"/> sequential calls of each case of the pair (the
    /// argument is the call's index in its batch); a sample is the batch's mean per call. <paramref name="rounds"/> are
    /// split evenly over the epochs, each epoch after <paramref name="warmupRounds"/> rounds not kept.
    /// </summary>
    public static Task<Samples> AlternatingBatchesAsync(
        IReadOnlyList<(string Name, Func<int, Task> Run)> cases, Func<Task> newEpoch, int epochs, int rounds, int warmupRounds, int batch) =>
        MeasureAsync(cases, newEpoch, epochs, rounds / epochs, warmupRounds, batch, async (run, _) =>
        {
            for (var i = 0; i < batch; i++)
            {
                await run(i);
            }
        });

    /// <summary>
    /// Alternating calls: one call of each case of the pair at a time (the argument is the step), so each routed call is
    /// compared with the direct call next to it; a sample is one call. <paramref name="pairs"/> are split evenly over the
    /// epochs, each epoch after a tenth as many warm-up pairs.
    /// </summary>
    public static Task<Samples> AlternatingCallsAsync(IReadOnlyList<(string Name, Func<int, Task> Run)> cases, Func<Task> newEpoch, int epochs, int pairs) =>
        MeasureAsync(cases, newEpoch, epochs, pairs / epochs, pairs / epochs / 10, 1, (run, step) => run(step));

    /// <summary>
    /// Kills the primary, promotes the replica at once, then writes through the router every 50 ms until one succeeds (for
    /// at most 60 s): the times from the kill to the promotion and to that write, and how many writes failed before it.
    /// </summary>
    public static async Task<Failover> FailoverAsync(Func<Task> killPrimary, Func<Task> promoteReplica, Func<Task> write)
    {
        ArgumentNullException.ThrowIfNull(killPrimary);
        ArgumentNullException.ThrowIfNull(promoteReplica);
        ArgumentNullException.ThrowIfNull(write);
        var watch = Stopwatch.StartNew();
        await killPrimary();
        await promoteReplica();
        var promoted = watch.Elapsed;
        var failed = 0;
        while (true)
        {
            try
            {
                await write();
                return new Failover(promoted, watch.Elapsed, failed);
            }
            catch (RoutingException) when (watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                failed++;
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// The loop both kinds share: for each pair, for each epoch, <paramref name="warmup"/> + <paramref name="perEpoch"/>
    /// steps, each running <paramref name="sample"/> for the two cases in alternating order. Wall time is the span of the
    /// sample alone; the process's CPU time (all threads: the router, the driver, Dapper, the thread pool) is read just
    /// outside it. Both are divided by <paramref name="callsPerSample"/>.
    /// </summary>
    private static async Task<Samples> MeasureAsync(
        IReadOnlyList<(string Name, Func<int, Task> Run)> cases,
        Func<Task> newEpoch,
        int epochs,
        int perEpoch,
        int warmup,
        int callsPerSample,
        Func<Func<int, Task>, int, Task> sample)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(newEpoch);
        var wall = cases.Select(_ => new double[epochs * perEpoch]).ToArray();
        var cpu = cases.Select(_ => new double[epochs * perEpoch]).ToArray();
        for (var pair = 0; pair < cases.Count; pair += 2)
        {
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                await newEpoch();
                for (var step = -warmup; step < perEpoch; step++)
                {
                    var first = pair + (Math.Abs(step) % 2);
                    foreach (var c in new[] { first, first ^ 1 })
                    {
                        var cpuBefore = ProcessCpuTime.Nanoseconds();
                        var started = Stopwatch.GetTimestamp();
                        await sample(cases[c].Run, step);
                        var elapsed = Stopwatch.GetElapsedTime(started);
                        if (step >= 0)
                        {
                            var index = (epoch * perEpoch) + step;
                            wall[c][index] = elapsed.TotalMicroseconds / callsPerSample;
                            cpu[c][index] = (ProcessCpuTime.Nanoseconds() - cpuBefore) / 1000.0 / callsPerSample;
                        }
                    }
                }
            }
        }

        return new Samples(wall, cpu);
    }

    /// <summary>Per-call wall and process-CPU times in µs, indexed [case][sample], samples in epoch order.</summary>
    public sealed record Samples(double[][] Wall, double[][] Cpu);

    /// <summary>What one failover took: kill to promotion, kill to the first successful write, writes that failed before it.</summary>
    public readonly record struct Failover(TimeSpan Promoted, TimeSpan FirstWrite, int FailedAttempts);
}
