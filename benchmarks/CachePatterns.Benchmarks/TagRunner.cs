using System.Diagnostics;
using System.Globalization;
using CachePatterns.Memcached;
using CachePatterns.Memcached.Internal;
using CachePatterns.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>tags</c> mode (issue 13): the cost of a tagged hit next to an untagged one, in memory, on a single Redis, on a
/// 3-primary Redis Cluster and on memcached, one server and three (servers started here), measured round-robin in one process (each round times a batch of every case back to back; the table shows the median
/// per-call time over the rounds), and <c>InvalidateTagAsync</c> over 10,000 tagged entries. Tagged and untagged entries
/// live in two named caches on the same provider kind, so the untagged store never reads by script.
/// </summary>
public static class TagRunner
{
    private const int Entries = 10_000;

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"load average at start: {LoadAverage()}");
        using var redis = RedisBenchServer.Start();
        using var cluster = await RedisBenchCluster.StartAsync();
        using var memcached = ServerProcess.Memcached();
        using var three = new ServerProcessGroup([ServerProcess.Memcached(), ServerProcess.Memcached(), ServerProcess.Memcached()]);
        await using var services = Services(redis.Configuration, cluster.Configuration, memcached.Address, three.Addresses);
        await HitsAsync(output, "memory", StandardCases(services, "memory"), batch: 20_000, rounds: 200);
        await HitsAsync(output, "redis", [.. StandardCases(services, "redis"), ("sliding hit, 1 tag (read by script)", Cache(services, "redis-sliding"), "hit1", SlidingOne)], batch: 200, rounds: 300);
        await HitsAsync(output, "redis cluster", ClusterCases(services, cluster), batch: 200, rounds: 300);
        await HitsAsync(output, "memcached", StandardCases(services, "memcached"), batch: 200, rounds: 100);
        await HitsAsync(output, "memcached, 3 servers", MemcachedThreeCases(services, three.Addresses), batch: 200, rounds: 100);
        await InvalidateAsync(output, "memory", services.GetRequiredKeyedService<ICache>("memory-tagged"));
        await InvalidateAsync(output, "redis", services.GetRequiredKeyedService<ICache>("redis-tagged"));
        await InvalidateAsync(output, "redis cluster", services.GetRequiredKeyedService<ICache>("cluster-tagged"));
        await InvalidateAsync(output, "memcached", services.GetRequiredKeyedService<ICache>("memcached-tagged"));
        await InvalidateAsync(output, "memcached, 3 servers", services.GetRequiredKeyedService<ICache>("memcached3-tagged"));
        await InvalidateWithCopiesAsync(output, Cache(services, "memcached3-tagged"), three.Addresses);
        output.WriteLine($"load average at end: {LoadAverage()}");
        return 0;
    }

    private static ICache Cache(IServiceProvider services, string name) => services.GetRequiredKeyedService<ICache>(name);

    private static readonly CacheEntryOptions Untagged = CacheEntryOptions.ExpireAfter(TimeSpan.FromHours(1));
    private static readonly CacheEntryOptions OneTag = new() { Tags = ["category:5"], Expiration = TimeSpan.FromHours(1) };
    private static readonly CacheEntryOptions ThreeTags = new() { Tags = ["category:5", "shop", "page:1"], Expiration = TimeSpan.FromHours(1) };
    private static readonly CacheEntryOptions SlidingOne = new() { Tags = ["category:5"], SlidingExpiration = TimeSpan.FromHours(1) };

    /// <summary>The cases every provider runs: an untagged hit (its own named cache: the baseline), 1 and 3 tags, and, where it has one, the untagged sliding hit.</summary>
    private static List<(string Name, ICache Cache, string Key, CacheEntryOptions Options)> StandardCases(IServiceProvider services, string provider)
    {
        List<(string Name, ICache Cache, string Key, CacheEntryOptions Options)> cases =
        [
            ("untagged hit (baseline)", Cache(services, provider + "-untagged"), "hit", Untagged),
            ("hit, 1 tag", Cache(services, provider + "-tagged"), "hit1", OneTag),
            ("hit, 3 tags", Cache(services, provider + "-tagged"), "hit3", ThreeTags),
        ];
        if (services.GetKeyedService<ICache>(provider + "-sliding") is { } sliding)
        {
            cases.Add(("untagged sliding hit (read by script)", sliding, "hit", CacheEntryOptions.ExpireAfterIdle(TimeSpan.FromHours(1))));
        }

        return cases;
    }

    /// <summary>
    /// On the Cluster a tagged entry's versions live in the slot <c>{InstanceName~tags}</c>: its hit's GET and MGET go down one
    /// connection when the entry's slot is on that node, to two nodes at once otherwise. Keys are picked for both.
    /// </summary>
    private static List<(string Name, ICache Cache, string Key, CacheEntryOptions Options)> ClusterCases(IServiceProvider services, RedisBenchCluster cluster)
    {
        var versionsNode = cluster.NodeOf("{ct:~tags}");
        string Pick(string stem, bool sameNode) => Enumerable.Range(0, 1_000).Select(i => $"{stem}{i}")
            .First(key => (cluster.NodeOf("{ct:~cluster-tagged:" + key + "}") == versionsNode) == sameNode);
        var tagged = Cache(services, "cluster-tagged");
        return
        [
            ("untagged hit (baseline)", Cache(services, "cluster-untagged"), "hit", Untagged),
            ("hit, 1 tag, entry on the versions' node", tagged, Pick("near", sameNode: true), OneTag),
            ("hit, 1 tag, entry on another node", tagged, Pick("far", sameNode: false), OneTag),
            ("hit, 3 tags, entry on another node", tagged, Pick("far3-", sameNode: false), ThreeTags),
        ];
    }

    /// <summary>
    /// On several memcached nodes a tagged entry's versions live on the node of <c>~tags</c>; an entry on another node reads the
    /// copies of the versions its own node holds (docs/architecture.md, "The tagged hit on several memcached nodes"). Keys are
    /// picked on the tags' node and on another one.
    /// </summary>
    private static List<(string Name, ICache Cache, string Key, CacheEntryOptions Options)> MemcachedThreeCases(IServiceProvider services, IReadOnlyList<string> servers)
    {
        var options = new MemcachedCacheProviderOptions { KeyPrefix = "m3t:" };
        foreach (var server in servers)
        {
            options.Servers.Add(server);
        }

        using var client = new MemcachedClient(options, TimeProvider.System, NullLogger.Instance);
        var home = client.NodeFor("~tags").Address;
        string Pick(string stem, bool sameNode) => Enumerable.Range(0, 1_000).Select(i => $"{stem}{i}")
            .First(key => (client.NodeFor("~memcached3-tagged:" + key).Address == home) == sameNode);
        var tagged = Cache(services, "memcached3-tagged");
        return
        [
            ("untagged hit (baseline)", Cache(services, "memcached3-untagged"), "hit", Untagged),
            ("hit, 1 tag, entry on the tags' node", tagged, Pick("near", sameNode: true), OneTag),
            ("hit, 1 tag, entry on another node", tagged, Pick("far", sameNode: false), OneTag),
            ("hit, 3 tags, entry on another node", tagged, Pick("far3-", sameNode: false), ThreeTags),
        ];
    }

    private static ServiceProvider Services(string redis, string cluster, string memcached, IReadOnlyList<string> memcachedThree)
    {
        var services = new ServiceCollection();
        services.AddCachePatterns("memory-untagged").UseMemoryProvider();
        services.AddCachePatterns("memory-sliding").UseMemoryProvider();
        services.AddCachePatterns("memory-tagged").UseMemoryProvider(o => o.MaxEntries = 2 * Entries);

        // Generous timeouts: the first call also connects, and the machine is shared.
        foreach (var (name, configuration, instance) in new[] { ("redis-untagged", redis, "u:"), ("redis-tagged", redis, "t:"), ("redis-sliding", redis, "s:"), ("cluster-untagged", cluster, "cu:"), ("cluster-tagged", cluster, "ct:") })
        {
            services.AddCachePatterns(name).UseRedis(o => (o.Configuration, o.InstanceName) = (configuration, instance))
                .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        }

        foreach (var (name, prefix, servers) in new[] { ("memcached-untagged", "u:", [memcached]), ("memcached-tagged", "t:", [memcached]), ("memcached3-untagged", "m3u:", memcachedThree), ("memcached3-tagged", "m3t:", memcachedThree) })
        {
            services.AddCachePatterns(name).UseMemcached(o =>
                {
                    foreach (var server in servers)
                    {
                        o.Servers.Add(server);
                    }

                    o.KeyPrefix = prefix;
                })
                .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        }

        return services.BuildServiceProvider();
    }

    private static async Task HitsAsync(TextWriter output, string provider, List<(string Name, ICache Cache, string Key, CacheEntryOptions Options)> cases, int batch, int rounds)
    {
        foreach (var (_, cache, key, options) in cases)
        {
            await cache.TryGetAsync<string>("connect");
            await cache.SetAsync(key, "value", options);
        }

        var times = cases.Select(_ => new double[rounds]).ToArray();
        for (var round = -rounds / 5; round < rounds; round++)
        {
            for (var c = 0; c < cases.Count; c++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < batch; i++)
                {
                    var (found, _) = await cases[c].Cache.TryGetAsync<string>(cases[c].Key);
                    if (!found)
                    {
                        throw new InvalidOperationException($"{provider}: '{cases[c].Name}' missed.");
                    }
                }

                if (round >= 0)
                {
                    times[c][round] = Stopwatch.GetElapsedTime(started).TotalNanoseconds / batch;
                }
            }
        }

        output.WriteLine();
        output.WriteLine($"{provider}: {rounds} rounds of {batch:N0} sequential hits per case, cases interleaved; median of the per-round mean. Load average {LoadAverage()}.");
        output.WriteLine();
        output.WriteLine("| case | median | p25 | p75 | ratio (median) |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        var baseline = Percentile(times[0], 0.5);
        for (var c = 0; c < cases.Count; c++)
        {
            var median = Percentile(times[c], 0.5);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[c].Name} | {Format(median)} | {Format(Percentile(times[c], 0.25))} | {Format(Percentile(times[c], 0.75))} | {median / baseline:0.00} |"));
        }
    }

    private static async Task InvalidateAsync(TextWriter output, string provider, ICache cache)
    {
        var options = new CacheEntryOptions { Tags = ["bulk"], Expiration = TimeSpan.FromHours(1) };
        var filled = Stopwatch.StartNew();
        var pending = new List<Task>();
        for (var i = 0; i < Entries; i++)
        {
            pending.Add(cache.SetAsync($"bulk:{i}", "value", options).AsTask());
            if (pending.Count == 64)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
        filled.Stop();
        var invalidations = new double[5];
        for (var i = 0; i < invalidations.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await cache.InvalidateTagAsync("bulk");
            invalidations[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var misses = 0;
        var verified = Stopwatch.StartNew();
        for (var i = 0; i < Entries; i++)
        {
            misses += (await cache.TryGetAsync<string>($"bulk:{i}")).Found ? 0 : 1;
        }

        verified.Stop();
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{provider}: {Entries:N0} entries tagged 'bulk' set in {filled.Elapsed.TotalMilliseconds:0} ms (64 at a time); InvalidateTagAsync('bulk') took {Percentile(invalidations, 0.5):0} µs (median of 5; min {invalidations.Min():0}, max {invalidations.Max():0}); afterwards {misses:N0} of {Entries:N0} read as misses ({verified.Elapsed.TotalMilliseconds:0} ms to read them one by one). Load average {LoadAverage()}."));
    }

    /// <summary>
    /// <c>InvalidateTagAsync</c> on three memcached servers when the tag's copies exist on the two nodes other than the tags'
    /// (made by hits of an entry on each): every invalidation then raises them (<c>mg</c>, then <c>ms</c> with the CAS and a
    /// re-read on each node).
    /// </summary>
    private static async Task InvalidateWithCopiesAsync(TextWriter output, ICache cache, IReadOnlyList<string> servers)
    {
        var options = new MemcachedCacheProviderOptions { KeyPrefix = "m3t:" };
        foreach (var server in servers)
        {
            options.Servers.Add(server);
        }

        using var client = new MemcachedClient(options, TimeProvider.System, NullLogger.Instance);
        var tags = new MemcachedTags(client, TimeProvider.System);
        var home = client.NodeFor("~tags");
        var others = client.Nodes.Where(n => n != home).ToArray();
        var keys = others.Select(node => Enumerable.Range(0, 1_000).Select(i => $"hot{i}").First(key => client.NodeFor("~memcached3-tagged:" + key) == node)).ToArray();
        var hot = new CacheEntryOptions { Tags = ["hot"], Expiration = TimeSpan.FromHours(1) };
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "value", hot);
        }

        var made = Stopwatch.StartNew();
        while (!await CopiesExistAsync())
        {
            if (made.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException("memcached, 3 servers: the copies of 'hot' were not made by the hits.");
            }

            foreach (var key in keys)
            {
                await cache.TryGetAsync<string>(key);
            }
        }

        var invalidations = new double[20];
        for (var i = 0; i < invalidations.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await cache.InvalidateTagAsync("hot");
            invalidations[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var kept = await CopiesExistAsync();
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"memcached, 3 servers: InvalidateTagAsync('hot') with its copies on the {others.Length} nodes other than the tags' took {Percentile(invalidations, 0.5):0} µs (median of {invalidations.Length}; min {invalidations.Min():0}, max {invalidations.Max():0}); copies still there afterwards: {kept}. Load average {LoadAverage()}."));

        async Task<bool> CopiesExistAsync()
        {
            foreach (var node in others)
            {
                if ((await node.ExecuteAsync([new MetaCommand("mg", tags.CopyKey("hot"), "v")], quiet: false, CancellationToken.None))[0].Status != MetaStatus.Value)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static string Format(double nanoseconds) =>
        nanoseconds >= 10_000 ? string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1000:0.0} µs") : string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:0} ns");

    private static double Percentile(double[] samples, double p)
    {
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }

    /// <summary>Several servers started together, killed together.</summary>
    private sealed class ServerProcessGroup(ServerProcess[] servers) : IDisposable
    {
        public IReadOnlyList<string> Addresses { get; } = [.. servers.Select(s => s.Address)];

        public void Dispose()
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }
        }
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
