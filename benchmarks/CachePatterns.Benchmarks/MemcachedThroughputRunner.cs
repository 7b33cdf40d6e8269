using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CachePatterns.Memcached;
using CachePatterns.Memcached.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>mcthroughput</c> mode: throughput with 64 concurrent callers, 90 % gets and 10 % sets of 64-byte values,
/// against one memcached this run starts on a free port. memaslap (libmemcached's load generator, Debian's
/// <c>memcaslap</c>: 2 threads, 64 concurrent connections) and our client take turns, several rounds, so the ratio
/// compares runs made under the same machine load. "client" is the meta-protocol client alone (<c>mg</c>/<c>ms</c>);
/// "store" is the provider's store (envelope, CAS, TTL) over it.
/// </summary>
public static partial class MemcachedThroughputRunner
{
    private const int Callers = 64;
    private const int KeyCount = 10_000;
    private const int ValueBytes = 64;

    public static async Task<int> RunAsync(TextWriter output, string[] args)
    {
        ArgumentNullException.ThrowIfNull(output);
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var memaslap = ServerProcess.FindOnPath("memcaslap") ?? ServerProcess.FindOnPath("memaslap")
            ?? throw new InvalidOperationException("memcaslap is not on PATH: apt-get install libmemcached-tools.");
        using var server = ServerProcess.Memcached();
        var options = new MemcachedCacheProviderOptions { OperationTimeout = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(5) };
        options.Servers.Add(server.Address);
        using var client = new MemcachedClient(options, TimeProvider.System, NullLogger.Instance);
        using var provider = new MemcachedCacheProvider(Options.Create(options));
        var store = provider.CreateStore(new CacheStoreDescriptor<string, byte[]>("bench", "s:", new BytesSerializer()));
        var keys = Enumerable.Range(0, KeyCount).Select(i => $"k:{i:D8}:".PadRight(ValueBytes, 'x')).ToArray();
        var value = Encoding.ASCII.GetBytes(new string('v', ValueBytes));
        var entry = new StoreEntryOptions(TimeSpan.FromHours(1));
        foreach (var key in keys)
        {
            await client.SetAsync(key, value, null, string.Empty, default);
            await store.SetAsync(key, CacheValue<byte[]>.Of(value), entry, default);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} rounds of {seconds} s each, {Callers} concurrent callers, 90 % get / 10 % set, {ValueBytes}-byte values, {KeyCount:N0} keys, one memcached 1.6 (4 threads) on loopback; {Environment.ProcessorCount} cores, load average at start {LoadAverage()}."));
        output.WriteLine();
        output.WriteLine("| round | memaslap ops/s | client ops/s | client / memaslap | store ops/s | store / memaslap |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|");
        var clientRatios = new List<double>();
        var storeRatios = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var reference = await RunMemaslapAsync(memaslap, server.Address, seconds);
            var ours = await RunCallersAsync(seconds, async (i, n) =>
            {
                var key = keys[(int)((uint)(n * 7919 + i) % KeyCount)];
                if (n % 10 == 9)
                {
                    await client.SetAsync(key, value, null, string.Empty, default);
                }
                else
                {
                    await client.GetAsync(key, "v f", default);
                }
            });
            var viaStore = await RunCallersAsync(seconds, async (i, n) =>
            {
                var key = keys[(int)((uint)(n * 7919 + i) % KeyCount)];
                if (n % 10 == 9)
                {
                    await store.SetAsync(key, CacheValue<byte[]>.Of(value), entry, default);
                }
                else if ((await store.GetAsync(key, false, default)).Status != CacheLookupStatus.Hit)
                {
                    throw new InvalidOperationException("The store missed a preloaded key.");
                }
            });
            clientRatios.Add(ours / reference);
            storeRatios.Add(viaStore / reference);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {reference:N0} | {ours:N0} | {ours / reference:0.00} | {viaStore:N0} | {viaStore / reference:0.00} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median ratio: client {Median(clientRatios):0.00}, store {Median(storeRatios):0.00} (goal ≥ 0.80)"));
        return 0;
    }

    private static async Task<double> RunCallersAsync(int seconds, Func<int, int, Task> operation)
    {
        var operations = 0L;
        var watch = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        var callers = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
        {
            var n = 0;
            while (watch.Elapsed < until)
            {
                await operation(i, n++);
            }

            Interlocked.Add(ref operations, n);
        })).ToArray();
        await Task.WhenAll(callers);
        return operations / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> RunMemaslapAsync(string binary, string server, int seconds)
    {
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-s", server, "-T", "2", "-c", "64", "-t", $"{seconds}s", "-X", "64" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("memaslap did not start.");
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var match = Tps().Match(text);
        return match.Success
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException("memaslap printed no TPS: " + text + await process.StandardError.ReadToEndAsync());
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    [GeneratedRegex(@"TPS: (\d+)")]
    private static partial Regex Tps();
}
