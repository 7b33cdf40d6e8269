using System.Diagnostics;
using System.Globalization;

namespace CachePatterns.Benchmarks;

/// <summary>
/// Times cases round-robin in one process: every round runs one batch of each case back to back, and the table shows
/// the median (and quartiles) of the per-call mean over the rounds and the bytes allocated per call, so load drift on a
/// shared machine reaches every case alike. The first case is the baseline of the ratio column.
/// </summary>
public static class InterleavedBatches
{
    /// <summary>Runs the rounds and writes the table.</summary>
    /// <param name="output">Where the table goes.</param>
    /// <param name="fixture">What the cases read.</param>
    /// <param name="cases">Each runs <paramref name="batch"/> hits and returns how many found the value.</param>
    /// <param name="batch">Calls per case per round.</param>
    /// <param name="warmupRounds">Rounds run before timing.</param>
    /// <param name="measuredRounds">Rounds timed.</param>
    public static void Run<TFixture>(TextWriter output, TFixture fixture, IReadOnlyList<(string Name, Func<TFixture, int> Run)> cases, int batch, int warmupRounds, int measuredRounds)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(cases);
        var times = cases.Select(_ => new double[measuredRounds]).ToArray();
        var allocated = new long[cases.Count];
        for (var round = 0; round < warmupRounds + measuredRounds; round++)
        {
            for (var c = 0; c < cases.Count; c++)
            {
                var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                if (cases[c].Run(fixture) != batch)
                {
                    throw new InvalidOperationException($"'{cases[c].Name}' missed.");
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                if (round >= warmupRounds)
                {
                    times[c][round - warmupRounds] = elapsed.TotalNanoseconds / batch;
                    allocated[c] += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
                }
            }
        }

        output.WriteLine(
            $"{measuredRounds} rounds (after {warmupRounds} warm-up rounds) of {batch:N0} calls per case, cases interleaved; " +
            "median and quartiles of the per-round mean.");
        output.WriteLine();
        output.WriteLine("| method | median | p25 | p75 | ratio (median) | allocated |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        var baseline = Percentile(times[0], 0.5);
        for (var c = 0; c < cases.Count; c++)
        {
            var median = Percentile(times[c], 0.5);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {cases[c].Name} | {median:0.0} ns | {Percentile(times[c], 0.25):0.0} ns | {Percentile(times[c], 0.75):0.0} ns | {median / baseline:0.00} | {(double)allocated[c] / ((long)measuredRounds * batch):0} B |"));
        }
    }

    /// <summary>1 when a pending lookup completed with a value; waits for it otherwise (a miss is then visible as time).</summary>
    public static int Found<T>(ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully ? (pending.Result is not null ? 1 : 0) : (pending.AsTask().GetAwaiter().GetResult() is not null ? 1 : 0);

    public static double Percentile(double[] samples, double p)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }
}
