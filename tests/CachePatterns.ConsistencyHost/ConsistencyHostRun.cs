using System.Diagnostics;
using System.Text.Json;

namespace CachePatterns.Tests.Support;

/// <summary>
/// Runs the consistency checker from two OS processes (two <c>CachePatterns.ConsistencyHost</c> children) against one
/// cache server and one database shared through a SQLite file. Protocol per child: it prints <c>ready</c> once connected;
/// <c>go</c> runs the workload and prints <c>report {json}</c>; <c>check</c> compares the cache with the database and
/// prints <c>stale {json}</c>; an empty line ends it. The first child creates and seeds the database.
/// Linked into the provider test projects (which build the host through a project reference).
/// </summary>
public static class ConsistencyHostRun
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>Runs one round in two processes and returns what both found together.</summary>
    /// <param name="provider"><c>redis</c> or <c>memcached</c>.</param>
    /// <param name="servers">The servers, comma-separated (a Redis configuration string for Redis).</param>
    /// <param name="kind"><c>CacheAside</c>, <c>WriteThrough</c> or <c>Naive</c> (the unfenced stand-in).</param>
    /// <param name="options">The shape of the workload each process runs.</param>
    /// <param name="maxDelayMicroseconds">The database's random delay around each row access.</param>
    /// <param name="run">Near cache, a second process's own route to the server, a fault injected midway.</param>
    public static async Task<CheckerReport> RunAsync(string provider, string servers, string kind, CheckerOptions options, int maxDelayMicroseconds, HostRunOptions? run = null)
    {
        run ??= new HostRunOptions();
        var directory = Directory.CreateTempSubdirectory("cachepatterns-consistency-");
        try
        {
            string[] common =
            [
                "--provider", provider, "--kind", kind, "--namespace", $"x{Guid.NewGuid():N}:",
                "--db", Path.Combine(directory.FullName, "db.sqlite"), "--delay", $"{maxDelayMicroseconds}",
                "--keys", $"{options.Keys}", "--readers", $"{options.Readers}", "--ops", $"{options.OperationsPerWorker}",
                .. (run.Near ? ["--near"] : Array.Empty<string>()),
            ];
            string[] midway = run.AtMidway is null ? [] : ["--midway", $"{options.Writers * options.OperationsPerWorker / 2}"];
            using var a = Child.Start([.. common, "--servers", servers, "--name", "a", "--seed", "--writers", $"{options.Writers}", .. midway]);
            using var b = Child.Start([.. common, "--servers", run.ServersOfSecondProcess ?? servers, "--name", "b", "--writers", $"{run.WritersOfSecondProcess ?? options.Writers}"]);
            using var timeout = new CancellationTokenSource(Limit);
            await a.ExpectAsync("ready", timeout.Token);
            await b.ExpectAsync("ready", timeout.Token);
            await a.SendAsync("go");
            await b.SendAsync("go");
            if (run.AtMidway is not null)
            {
                await a.ExpectAsync("midway", timeout.Token);
                await run.AtMidway();
            }

            var reports = new[]
            {
                JsonSerializer.Deserialize<CheckerReport>(await a.ExpectAsync("report ", timeout.Token))!,
                JsonSerializer.Deserialize<CheckerReport>(await b.ExpectAsync("report ", timeout.Token))!,
            };

            // Both processes look at quiescence: each has its own near cache.
            var stale = new List<string>();
            foreach (var (name, child) in new[] { ("a", a), ("b", b) })
            {
                await child.SendAsync("check");
                stale.AddRange(JsonSerializer.Deserialize<List<string>>(await child.ExpectAsync("stale ", timeout.Token))!.Select(s => $"process {name}: {s}"));
            }

            await a.SendAsync(string.Empty);
            await b.SendAsync(string.Empty);
            return new CheckerReport(
                stale,
                reports.Sum(r => r.Reads),
                reports.Sum(r => r.OlderThanCompletedWrite),
                [.. reports.SelectMany(r => r.Examples ?? [])],
                reports.Max(r => r.WindowMilliseconds),
                reports.Sum(r => r.WritesDeferred),
                reports.Sum(r => r.NearCacheHits),
                reports.Max(r => r.InvalidationDelayMilliseconds),
                [.. reports.SelectMany(r => r.MissedWriteCompletions ?? [])]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Starts one host for tag commands on its ad-hoc <see cref="ICache"/> (a second OS process sharing the cache):
    /// <see cref="TagHost.InvalidateTagAsync"/>, <see cref="TagHost.SetTaggedAsync"/>, <see cref="TagHost.PeekAsync"/>.
    /// </summary>
    /// <param name="provider"><c>redis</c> or <c>memcached</c>.</param>
    /// <param name="servers">The servers, comma-separated.</param>
    /// <param name="cacheNamespace">The Redis instance name or memcached key prefix the test's own client uses too.</param>
    public static async Task<TagHost> StartTagHostAsync(string provider, string servers, string cacheNamespace)
    {
        var directory = Directory.CreateTempSubdirectory("cachepatterns-tags-");
        var child = Child.Start(
        [
            "--provider", provider, "--servers", servers, "--kind", "CacheAside", "--namespace", cacheNamespace,
            "--db", Path.Combine(directory.FullName, "db.sqlite"), "--delay", "0", "--keys", "1", "--writers", "0", "--readers", "0", "--ops", "0",
            "--name", "tags", "--seed",
        ]);
        var host = new TagHost(child, directory);
        await host.ExpectAsync("ready");
        return host;
    }

    /// <summary>A host process answering tag commands (one line each).</summary>
    public sealed class TagHost : IDisposable
    {
        private readonly Child _child;
        private readonly DirectoryInfo _directory;

        internal TagHost(Child child, DirectoryInfo directory)
        {
            _child = child;
            _directory = directory;
        }

        public async Task InvalidateTagAsync(string tag)
        {
            await _child.SendAsync("invalidate-tag " + tag);
            await ExpectAsync("invalidated");
        }

        public async Task SetTaggedAsync(string key, string value, string tag)
        {
            await _child.SendAsync($"set-tagged {key} {value} {tag}");
            await ExpectAsync("stored");
        }

        /// <summary>The value the host's cache has for the key, or <see langword="null"/>.</summary>
        public async Task<string?> PeekAsync(string key)
        {
            await _child.SendAsync("peek " + key);
            var answer = await ExpectAsync("peeked ");
            return answer == "<missing>" ? null : answer;
        }

        public void Dispose()
        {
            _ = _child.SendAsync(string.Empty);
            _child.Dispose();
            _directory.Delete(recursive: true);
        }

        internal async Task<string> ExpectAsync(string prefix)
        {
            using var timeout = new CancellationTokenSource(Limit);
            return await _child.ExpectAsync(prefix, timeout.Token);
        }
    }

    /// <summary>The host's dll, built by the test project's reference into the host's own output folder.</summary>
    private static string HostDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var dll = Path.Combine(dir.FullName, "tests", "CachePatterns.ConsistencyHost", "bin", configuration, "net10.0", "CachePatterns.ConsistencyHost.dll");
            if (File.Exists(dll))
            {
                return dll;
            }
        }

        throw new InvalidOperationException($"CachePatterns.ConsistencyHost.dll is not built: dotnet build tests/CachePatterns.ConsistencyHost -c {configuration}.");
    }

    internal sealed class Child : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _errors = new();

        private Child(Process process) => _process = process;

        public static Child Start(string[] arguments)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(HostDll());
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            var child = new Child(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start."));
            child._process.ErrorDataReceived += (_, e) =>
            {
                lock (child._errors)
                {
                    child._errors.AppendLine(e.Data);
                }
            };
            child._process.BeginErrorReadLine();
            return child;
        }

        public async Task SendAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }

        /// <summary>Reads lines until one starts with <paramref name="prefix"/>; returns the rest of it.</summary>
        public async Task<string> ExpectAsync(string prefix, CancellationToken cancellationToken)
        {
            while (true)
            {
                string? line;
                try
                {
                    line = await _process.StandardOutput.ReadLineAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"The consistency host did not answer '{prefix.Trim()}' within {Limit}. Its errors: {Errors()}");
                }

                if (line is null)
                {
                    throw new InvalidOperationException($"The consistency host exited before '{prefix.Trim()}'. Its errors: {Errors()}");
                }

                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line[prefix.Length..];
                }
            }
        }

        public void Dispose()
        {
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        private string Errors()
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }
}

/// <summary>How a two-process run differs from the plain one.</summary>
/// <param name="Near">Both processes put the library's near cache in front of the provider (<c>WithNearCache</c>).</param>
/// <param name="ServersOfSecondProcess">The servers process b connects to (for example a TCP relay the test can cut), if not the same as a's.</param>
/// <param name="AtMidway">Run once process a has finished half its writes, while the workload goes on (inject a fault, then heal it).</param>
/// <param name="WritersOfSecondProcess">Process b's writers, if not the same as a's (0: b only reads, so it cannot learn of a's writes through its own).</param>
public sealed record HostRunOptions(bool Near = false, string? ServersOfSecondProcess = null, Func<Task>? AtMidway = null, int? WritersOfSecondProcess = null);
