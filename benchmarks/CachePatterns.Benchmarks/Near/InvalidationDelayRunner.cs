using System.Diagnostics;
using System.Globalization;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The <c>neardelay</c> mode: the invalidation delay of each two-level cache, measured the same way for all of them,
/// between two OS processes on one redis-server. A child process (<c>neardelay-child</c>, a second cache node of the same
/// library with its own connections) writes a key itself (its own messages are skipped by every library), reads it into its
/// memory level, then this process writes the key through its own cache node. Two ways to see the change in the child:
/// <list type="bullet">
/// <item><b>read</b> (default): the child reads the key in a loop until it returns the new value; the delay is that read's
/// time. It includes the polling loop's own scheduling: on 2 cores the loop competes with the writer, redis-server and the
/// child's socket reader.</item>
/// <item><b>drop</b> (<c>--drop</c>): the child waits, idle, for its node to receive the invalidation (CachePatterns: the
/// <c>cachepatterns.near_cache.invalidation.delay</c> measurement, recorded just before the copies are dropped; FusionCache:
/// <c>Events.Backplane.MessageReceived</c>); the delay is that moment. This is the issue's "write to the other process's L1
/// drop". HybridCache has no invalidation to wait for and is left out.</item>
/// </list>
/// The delay is measured from the moment the writer's call returned (both on <see cref="Stopwatch.GetTimestamp"/>, which is
/// CLOCK_MONOTONIC on Linux and so comparable across processes of one machine); a negative figure means the other node
/// saw the write before the writer's own call returned. Libraries are sampled round-robin so the machine's load reaches
/// each alike. A sample not seen within <see cref="SeenTimeout"/> is counted, not timed.
/// </summary>
public static class InvalidationDelayRunner
{
    /// <summary>HybridCache has no cross-process invalidation: a few samples show it, each costing the full timeout.</summary>
    private const int HybridSamples = 10;
    private const int WarmupSamples = 20;
    private static readonly TimeSpan SeenTimeout = TimeSpan.FromSeconds(1);

    /// <param name="output">Where the table goes.</param>
    /// <param name="args">Optional: samples per library (default 300), then the libraries (default all); <c>--drop</c>
    /// anywhere times the child's receipt of the invalidation instead of its polling read.</param>
    public static async Task<int> RunAsync(TextWriter output, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        var drop = args.Contains("--drop");
        args = [.. args.Where(a => a != "--drop")];
        var samples = args.Count > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
        var libraries = args.Count > 1 ? args.Skip(1).ToList() : [.. NearCacheRunners.All.Where(l => !drop || l != NearCacheRunners.HybridCache)];
        var loadBefore = LoadAverage();
        using var server = RedisBenchServer.Start();
        var nodes = new List<(string Library, INearCacheRunner Writer, ChildNode Reader, List<double> FromReturn, List<double> FromCall, int[] NotSeen)>();
        try
        {
            foreach (var library in libraries)
            {
                nodes.Add((library, await NearCacheRunners.CreateAsync(library, server.Configuration), await ChildNode.StartAsync(library, server.Configuration, drop), [], [], [0]));
            }

            // Negative samples warm up both processes (the first ones pay the JIT: up to 3 ms) and are not recorded.
            for (var sample = -WarmupSamples; sample < samples; sample++)
            {
                foreach (var (library, writer, reader, fromReturn, fromCall, notSeen) in nodes)
                {
                    if (library == NearCacheRunners.HybridCache && (sample < 0 || sample >= HybridSamples))
                    {
                        continue;
                    }

                    var key = $"delay:{library}:{sample}";
                    var primed = await reader.AskAsync($"prime {key}");
                    if (primed != "before")
                    {
                        throw new InvalidOperationException($"{library}: the reader primed '{primed}' instead of the value written.");
                    }

                    var called = Stopwatch.GetTimestamp();
                    await writer.SetAsync(key, Product.Sample with { Name = "after" });
                    var returned = Stopwatch.GetTimestamp();
                    var seen = long.Parse(await reader.ReadAsync(), CultureInfo.InvariantCulture);
                    if (sample < 0)
                    {
                        continue;
                    }

                    if (seen < 0)
                    {
                        notSeen[0]++;
                        continue;
                    }

                    fromReturn.Add(Milliseconds(seen - returned));
                    fromCall.Add(Milliseconds(seen - called));
                }
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Reader.Dispose();
                await node.Writer.DisposeAsync();
            }
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Invalidation delay between two processes on one loopback redis-server, seen by the other process's {(drop ? "receipt of the invalidation (idle wait)" : "polling read")}; libraries sampled round-robin; a sample not seen within {SeenTimeout.TotalMilliseconds:0} ms is counted apart. {Environment.ProcessorCount} cores, load average {loadBefore} → {LoadAverage()}."));
        output.WriteLine();
        output.WriteLine("| library | samples | not seen within the timeout | from the write's return: p50 / p90 / p99 / max | from the write's call: p50 / p99 |");
        output.WriteLine("|---|---:|---:|---|---|");
        foreach (var (library, writer, _, fromReturn, fromCall, notSeen) in nodes)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {writer.Name} | {fromReturn.Count + notSeen[0]} | {notSeen[0]} | {Summary(fromReturn, 0.5, 0.9, 0.99, 1.0)} ms | {Summary(fromCall, 0.5, 0.99)} ms |"));
        }

        return 0;
    }

    /// <summary>
    /// The other node: when asked, writes a key itself and reads it into its memory level, then reports when it sees the
    /// next change (by polling reads, or, with <paramref name="waitForDrop"/>, by waiting for its node to receive the
    /// invalidation).
    /// </summary>
    public static async Task<int> ChildAsync(string library, string configuration, bool waitForDrop)
    {
        await using var runner = await NearCacheRunners.CreateAsync(library, configuration);
        using var received = new InvalidationReceipt(runner);
        Console.WriteLine("ready");
        while (await Console.In.ReadLineAsync() is { Length: > 0 } command)
        {
            var key = command["prime ".Length..];

            // This node writes the old value (its own message is skipped by its own node), then reads it twice: the first
            // read fills the memory level, the second must be served by it.
            await runner.SetAsync(key, Product.Sample with { Name = "before" });
            _ = await runner.GetAsync(key);
            var before = (await runner.GetAsync(key)).Name;
            received.Reset();
            Console.WriteLine(before);
            var seen = waitForDrop ? await received.WaitAsync(SeenTimeout) : await PollAsync(runner, key, before);
            // FusionCache raises its event before it applies the message: the new value must follow shortly.
            if (seen >= 0 && waitForDrop && await PollAsync(runner, key, before) < 0)
            {
                throw new InvalidOperationException($"{library}: an invalidation arrived but reads kept returning the old value.");
            }

            Console.WriteLine(seen.ToString(CultureInfo.InvariantCulture));
        }

        return 0;
    }

    private static async Task<long> PollAsync(INearCacheRunner runner, string key, string? before)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(SeenTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if ((await runner.GetAsync(key)).Name != before)
            {
                return Stopwatch.GetTimestamp();
            }

            // Let the connection's reader threads run: this loop must not delay the message it waits for.
            Thread.Yield();
        }

        return -1;
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static string Summary(List<double> values, params double[] quantiles)
    {
        if (values.Count == 0)
        {
            return "–";
        }

        var sorted = values.Order().ToList();
        return string.Join(" / ", quantiles.Select(q => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)].ToString("0.000", CultureInfo.InvariantCulture)));
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>A <c>neardelay-child</c> process of this benchmark, steered line by line on stdin/stdout.</summary>
    private sealed class ChildNode : IDisposable
    {
        private readonly Process _process;

        private ChildNode(Process process) => _process = process;

        public static async Task<ChildNode> StartAsync(string library, string configuration, bool waitForDrop)
        {
            var self = Environment.ProcessPath!;
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(InvalidationDelayRunner).Assembly.Location);
            }

            foreach (var arg in new[] { "neardelay-child", library, configuration, waitForDrop ? "drop" : "read" })
            {
                start.ArgumentList.Add(arg);
            }

            var node = new ChildNode(Process.Start(start) ?? throw new InvalidOperationException("The reader process did not start."));
            if (await node.ReadAsync() != "ready")
            {
                throw new InvalidOperationException($"The {library} reader process did not say 'ready'.");
            }

            return node;
        }

        public async Task<string> AskAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
            return await ReadAsync();
        }

        public async Task<string> ReadAsync() =>
            await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The reader process exited.");

        public void Dispose()
        {
            _process.StandardInput.WriteLine();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }
}
