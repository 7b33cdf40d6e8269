using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CachePatterns.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>gray</c> mode (issue 10): what callers pay when Redis fails the way production does.
/// <list type="number">
/// <item><b>hang</b>: 32 callers (cache-aside reads, 5 % writes of their own keys) against a warm Redis; the server is
/// frozen with SIGSTOP for 10 s, then resumed. Reports the time until callers stop paying the timeout, latency during
/// the hang, ops/s before/during/after, when the cache is used again, stale reads after the resume and stale keys at
/// quiescence.</item>
/// <item><b>restart</b>: two containers on one Redis with an append-only file; the server is killed, container A writes
/// 100 keys (their invalidations are lost), the server restarts and reloads the old rows from its AOF. Reports how long
/// container B reads old rows after the server accepts connections again.</item>
/// <item><b>full</b>: write-through of 16 KB values into a 3 MB <c>noeviction</c> Redis: peak <c>used_memory</c> and
/// whether hits are still served.</item>
/// </list>
/// </summary>
public static class GrayFailureRunner
{
    private const int Callers = 32;
    private const int Keys = 1000;

    public static async Task<int> RunAsync(TextWriter output, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(args);
        var hangSeconds = args.Count > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        output.WriteLine($"gray failures, {Environment.ProcessorCount} cores, redis-server on the same machine, default CacheResilienceOptions (500 ms timeout, 5 s break, 5 consecutive timeouts) and Redis heartbeat (250 ms, 500 ms).");
        output.WriteLine();
        await HangAsync(output, TimeSpan.FromSeconds(hangSeconds));
        output.WriteLine();
        await RestartAsync(output);
        output.WriteLine();
        await FullAsync(output);
        return 0;
    }

    private static ServiceProvider Container(string configuration, VersionedDatabase database, CacheStrategyKind kind = CacheStrategyKind.CacheAside, ILoggerProvider? logs = null) =>
        new ServiceCollection()
            .AddLogging(b =>
            {
                if (logs is not null)
                {
                    b.AddProvider(logs);
                }
            })
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = configuration + ",connectTimeout=1000";
                o.InstanceName = "gray:";
            })
            .AddStrategy<int, string>(kind, _ => database, _ => database, o =>
            {
                o.Jitter = 0;
                o.Expiration = TimeSpan.FromHours(1);
            })
            .Services.BuildServiceProvider();

    private static async Task HangAsync(TextWriter output, TimeSpan hang)
    {
        using var server = GrayRedis.Start();
        var database = new VersionedDatabase(Keys);
        var clock = Stopwatch.StartNew();
        var opened = new OpenedCapture(clock);
        await using var services = Container(server.Configuration, database, logs: opened);
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        for (var k = 0; k < Keys; k++)
        {
            await strategy.GetAsync(k);
        }

        var calls = new List<Call>[Callers];
        var failures = 0L;
        double pausedAt = double.NaN, resumedAt = double.NaN;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, Callers).Select(w => Task.Run(async () =>
        {
            var mine = calls[w] = new List<Call>(1_000_000);
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                // Callers are requests, not spinning threads: a call served synchronously (circuit open, loader in memory)
                // must not starve the timers and continuations of the others on 2 cores.
                await Task.Yield();
                var key = random.Next(Keys);
                var start = clock.Elapsed.TotalMilliseconds;
                var stale = false;
                var olderThanCompleted = false;
                try
                {
                    if (random.Next(20) == 0 && key % Callers == w)
                    {
                        var value = database.NextValue(key);
                        await strategy.WriteAsync(key, value);
                        database.Completed(key, value);
                    }
                    else
                    {
                        var committed = database.CommittedVersion(key);
                        var completed = database.CompletedVersion(key);
                        var version = VersionedDatabase.VersionOf((await strategy.GetAsync(key))!);
                        stale = version < committed;
                        olderThanCompleted = version < completed;
                    }
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }

                mine.Add(new Call(start, clock.Elapsed.TotalMilliseconds - start, stale, olderThanCompleted));
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(3));
        pausedAt = clock.Elapsed.TotalMilliseconds;
        server.Signal("-STOP");
        await Task.Delay(hang);
        server.Signal("-CONT");
        resumedAt = clock.Elapsed.TotalMilliseconds;

        // Back: a warm key (never written) read twice is loaded at most once.
        double backAt;
        while (true)
        {
            await strategy.GetAsync(Keys - 1);
            var loads = database.Loads;
            await strategy.GetAsync(Keys - 1);
            if (database.Loads == loads)
            {
                backAt = clock.Elapsed.TotalMilliseconds;
                break;
            }

            await Task.Delay(5);
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await stop.CancelAsync();
        var endedAt = clock.Elapsed.TotalMilliseconds;
        await Task.WhenAll(workers);

        var all = calls.SelectMany(c => c).ToArray();
        var during = all.Where(c => c.StartMs >= pausedAt && c.StartMs < resumedAt).ToArray();
        var firstOpen = opened.Opened.Where(o => o.AtMs >= pausedAt).OrderBy(o => o.AtMs).FirstOrDefault();
        var cutOffMs = firstOpen.Message is null ? double.NaN : firstOpen.AtMs - pausedAt;
        var afterCut = during.Where(c => c.StartMs >= pausedAt + cutOffMs).Select(c => c.Ms).Order().ToArray();
        var slowAfterCut = afterCut.Count(ms => ms > 20);
        var duringLatency = during.Select(c => c.Ms).Order().ToArray();
        double Rate(double from, double to) => all.Count(c => c.StartMs >= from && c.StartMs < to) / ((to - from) / 1000);
        var staleAfter = all.Count(c => c.StartMs >= resumedAt && c.Stale);
        var olderAfter = all.Count(c => c.StartMs >= resumedAt && c.OlderThanCompleted);
        var staleKeys = await StaleKeysAsync(server, database);

        output.WriteLine($"### hang: SIGSTOP for {hang.TotalSeconds:0} s under {Callers} callers ({Keys} warm keys, 5 % writes)");
        output.WriteLine();
        output.WriteLine("| figure | value |");
        output.WriteLine("|---|---:|");
        output.WriteLine(Row("cut off: circuit opened after the hang began (rule)", firstOpen.Message is null ? "never" : $"{cutOffMs:N0} ms ({firstOpen.Message})"));
        output.WriteLine(Row("latency during the hang p50 / p99 / max", $"{Percentile(duringLatency, 0.5):0.00} / {Percentile(duringLatency, 0.99):0.00} / {duringLatency.LastOrDefault():0} ms"));
        output.WriteLine(Row("latency after the cut-off p50 / p99 / max", $"{Percentile(afterCut, 0.5):0.00} / {Percentile(afterCut, 0.99):0.00} / {afterCut.LastOrDefault():0} ms"));
        output.WriteLine(Row("calls after the cut-off slower than 20 ms (half-open probes, scheduling)", $"{slowAfterCut:N0} of {afterCut.Length:N0}"));
        output.WriteLine(Row("ops/s before / during / after", $"{Rate(pausedAt - 3000, pausedAt):N0} / {Rate(pausedAt, resumedAt):N0} / {Rate(backAt, endedAt):N0}"));
        output.WriteLine(Row("cache used again after the resume", $"{backAt - resumedAt:N0} ms"));
        output.WriteLine(Row("caller exceptions", failures.ToString(CultureInfo.InvariantCulture)));
        output.WriteLine(Row("reads older than a completed write (`WriteAsync` returned before the read began), after the resume", olderAfter.ToString(CultureInfo.InvariantCulture)));
        output.WriteLine(Row("reads older than the database's row when they began (its write still in flight: allowed), after the resume", staleAfter.ToString(CultureInfo.InvariantCulture)));
        output.WriteLine(Row("stale keys in Redis at quiescence", staleKeys.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task RestartAsync(TextWriter output)
    {
        const int Written = 100;
        output.WriteLine("### restart: Redis killed, 100 writes while it is down, restarted from its AOF (old rows back)");
        output.WriteLine();
        output.WriteLine("| run | old rows left in Redis until (after it accepts connections) | old rows read by the other container | its last old read after it accepts connections |");
        output.WriteLine("|---|---:|---:|---:|");
        for (var run = 1; run <= 3; run++)
        {
            using var server = GrayRedis.Start(aof: true);
            var database = new VersionedDatabase(Written);
            await using var a = Container(server.Configuration, database);
            await using var b = Container(server.Configuration, database);
            var writer = a.GetRequiredService<ICacheStrategy<int, string>>();
            var reader = b.GetRequiredService<ICacheStrategy<int, string>>();
            for (var k = 0; k < Written; k++)
            {
                await writer.GetAsync(k);
                await reader.GetAsync(k);
            }

            server.Kill();
            for (var k = 0; k < Written; k++)
            {
                await writer.WriteAsync(k, database.NextValue(k));
            }

            var restarted = Stopwatch.StartNew();
            server.Restart();
            var accepting = restarted.Elapsed.TotalMilliseconds;

            // The window: until no old row is left in Redis (polled with a connection of its own), and what B read meanwhile
            // (every key over and over, until 10 s of clean passes).
            var redisClean = Task.Run(async () =>
            {
                using var raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",connectRetry=10");
                var db = raw.GetDatabase();
                while (restarted.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var old = 0;
                    for (var k = 0; k < Written; k++)
                    {
                        var stored = await db.StringGetAsync($"{{gray:String:{k}}}");
                        if (stored.HasValue && !((byte[])stored!).AsSpan().EndsWith(System.Text.Encoding.UTF8.GetBytes($"\"{database.Committed(k)}\"")))
                        {
                            old++;
                        }
                    }

                    if (old == 0)
                    {
                        return restarted.Elapsed.TotalMilliseconds;
                    }

                    await Task.Delay(5);
                }

                return double.NaN;
            });
            var oldReads = 0;
            var lastOldAt = accepting;
            var cleanSince = restarted.Elapsed;
            while (restarted.Elapsed - cleanSince < TimeSpan.FromSeconds(10) && restarted.Elapsed < TimeSpan.FromSeconds(60))
            {
                for (var k = 0; k < Written; k++)
                {
                    var value = await reader.GetAsync(k);
                    if (VersionedDatabase.VersionOf(value!) < database.CommittedVersion(k))
                    {
                        oldReads++;
                        lastOldAt = restarted.Elapsed.TotalMilliseconds;
                        cleanSince = restarted.Elapsed;
                    }
                }

                await Task.Delay(1);
            }

            var cleanAt = await redisClean;
            output.WriteLine($"| {run} | {cleanAt - accepting:N0} ms | {oldReads:N0} | {Math.Max(0, lastOldAt - accepting):N0} ms |");
        }
    }

    private static async Task FullAsync(TextWriter output)
    {
        const long MaxMemory = 3 * 1024 * 1024;
        using var server = GrayRedis.Start(extra: ["--maxmemory", MaxMemory.ToString(CultureInfo.InvariantCulture), "--maxmemory-policy", "noeviction"]);
        var database = new VersionedDatabase(400);
        await using var services = Container(server.Configuration, database, CacheStrategyKind.WriteThrough);
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        var big = new string('x', 16 * 1024);
        long peak = 0;
        using var raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        for (var k = 0; k < 400; k++)
        {
            await strategy.WriteAsync(k, database.NextValue(k) + big);
            peak = Math.Max(peak, await GrayRedis.UsedMemoryAsync(raw));
        }

        var loads = database.Loads;
        var reads = 0;
        for (var round = 0; round < 5; round++)
        {
            for (var k = 0; k < 400; k++)
            {
                await strategy.GetAsync(k);
                reads++;
            }
        }

        output.WriteLine("### full: write-through of 400 values of 16 KB into a 3 MB noeviction Redis");
        output.WriteLine();
        output.WriteLine("| figure | value |");
        output.WriteLine("|---|---:|");
        output.WriteLine(Row("peak used_memory / maxmemory (one value: 16 KB)", $"{peak:N0} / {MaxMemory:N0} bytes"));
        output.WriteLine(Row("reads served from Redis afterwards (5 rounds of 400 keys)", $"{reads - (database.Loads - loads):N0} of {reads:N0}"));
    }

    private static async Task<int> StaleKeysAsync(GrayRedis server, VersionedDatabase database)
    {
        // Quiescence: replays are done within a few heartbeats.
        await Task.Delay(TimeSpan.FromSeconds(2));
        using var raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var db = raw.GetDatabase();
        var stale = 0;
        for (var k = 0; k < database.Count; k++)
        {
            var stored = await db.StringGetAsync($"{{gray:String:{k}}}");
            if (stored.HasValue && !((byte[])stored!).AsSpan().EndsWith(System.Text.Encoding.UTF8.GetBytes($"\"{database.Committed(k)}\"")))
            {
                stale++;
            }
        }

        return stale;
    }

    private static string Row(string name, string value) => $"| {name} | {value} |";

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))];

    /// <summary>
    /// One call. <paramref name="Stale"/>: a read that returned a version older than the database's row when it began — allowed
    /// while that write is still in flight (its invalidation not yet done). <paramref name="OlderThanCompleted"/>: older than a
    /// write whose <c>WriteAsync</c> had returned when the read began — what the strategies guarantee never happens.
    /// </summary>
    private readonly record struct Call(double StartMs, double Ms, bool Stale, bool OlderThanCompleted);

    /// <summary>Records when the core logged that a circuit opened (event ids 5, 11, 12), on the benchmark's clock.</summary>
    private sealed class OpenedCapture(Stopwatch clock) : ILoggerProvider, ILogger
    {
        public ConcurrentBag<(double AtMs, string Message)> Opened { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id is 5 or 11 or 12)
            {
                Opened.Add((clock.Elapsed.TotalMilliseconds, eventId.Id switch { 11 => "consecutive timeouts", 12 => "provider reported the connection lost", _ => "failure ratio" }));
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Rows <c>v{version}-{key}</c>; the version committed last is known, so a read older than it is counted.</summary>
    private sealed class VersionedDatabase(int count) : ICacheLoader<int, string>, ICacheWriter<int, string>
    {
        private readonly ConcurrentDictionary<int, string> _rows = new(Enumerable.Range(0, count).Select(k => KeyValuePair.Create(k, $"v0-{k}")));
        private readonly int[] _committed = new int[count];
        private readonly int[] _completed = new int[count];
        private readonly int[] _next = new int[count];
        private int _loads;

        public int Count => count;

        public int Loads => Volatile.Read(ref _loads);

        public static int VersionOf(string value) => int.Parse(value.AsSpan(1, value.IndexOf('-', StringComparison.Ordinal) - 1), CultureInfo.InvariantCulture);

        public string NextValue(int key) => $"v{Interlocked.Increment(ref _next[key])}-{key}";

        public int CommittedVersion(int key) => Volatile.Read(ref _committed[key]);

        /// <summary>Gets the version of the last write whose <c>WriteAsync</c> returned.</summary>
        public int CompletedVersion(int key) => Volatile.Read(ref _completed[key]);

        /// <summary>Records that the strategy's write of <paramref name="value"/> returned (one writer per key: no race).</summary>
        public void Completed(int key, string value) => Volatile.Write(ref _completed[key], VersionOf(value));

        public string Committed(int key) => _rows[key];

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads);
            return new(LoadResult.Found(_rows[key]));
        }

        public ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
        {
            _rows[key] = value;
            Volatile.Write(ref _committed[key], VersionOf(value));
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(int key, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>A redis-server of the benchmark's own that it can freeze, kill and restart on the same port.</summary>
    private sealed class GrayRedis : IDisposable
    {
        private readonly string _directory;
        private readonly string[] _arguments;
        private Process _process;

        private GrayRedis(string directory, string[] arguments)
        {
            _directory = directory;
            _arguments = arguments;
            _process = Launch();
        }

        public int Port { get; private init; }

        public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

        public static GrayRedis Start(bool aof = false, string[]? extra = null)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            var directory = Path.Combine(Path.GetTempPath(), "cachepatterns-gray-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var arguments = new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--dir", directory }
                .Concat(aof ? ["--appendonly", "yes", "--appendfsync", "always"] : new[] { "--appendonly", "no" })
                .Concat(extra ?? [])
                .ToArray();
            return new GrayRedis(directory, arguments) { Port = port };
        }

        public void Signal(string signal)
        {
            using var kill = Process.Start("kill", [signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit(5000);
            _process.Dispose();
        }

        public void Restart() => _process = Launch();

        public static async Task<long> UsedMemoryAsync(ConnectionMultiplexer raw)
        {
            var info = (string?)await raw.GetDatabase().ExecuteAsync("INFO", "memory") ?? string.Empty;
            var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
            return long.Parse(line["used_memory:".Length..].Trim(), CultureInfo.InvariantCulture);
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    Signal("-CONT");
                    _process.Kill();
                    _process.WaitForExit(5000);
                }

                _process.Dispose();
            }
            catch (InvalidOperationException)
            {
            }

            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private Process Launch()
        {
            var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, WorkingDirectory = _directory };
            foreach (var argument in _arguments)
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (is it installed?)");
            var port = int.Parse(_arguments[1], CultureInfo.InvariantCulture);
            var watch = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, port);
                    return process;
                }
                catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
                {
                    Thread.Sleep(20);
                }
            }
        }
    }
}
