using System.Globalization;
using System.Text.Json;
using CachePatterns;
using CachePatterns.Memcached;
using CachePatterns.Providers;
using CachePatterns.Redis;
using CachePatterns.Serialization;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

// One process of a two-process consistency run; the protocol on stdin/stdout is in ConsistencyHostRun.cs.
var settings = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length && !args[p.i + 1].StartsWith("--", StringComparison.Ordinal) ? args[p.i + 1] : "true", StringComparer.Ordinal);
string Setting(string name) => settings.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");
int Number(string name) => int.Parse(Setting(name), CultureInfo.InvariantCulture);

// The shared database answers synchronously (SQLite): enough pool threads that its calls never starve the cache's continuations.
ThreadPool.SetMinThreads(64, 64);
var options = new CheckerOptions(Keys: Number("keys"), Writers: Number("writers"), Readers: Number("readers"), OperationsPerWorker: Number("ops"));
using var database = new SharedDatabase(Setting("db"), Number("delay"));
if (settings.ContainsKey("seed"))
{
    database.Create();
    for (var key = 0; key < options.Keys; key++)
    {
        database.Seed(key, $"k{key}-v0");
    }
}

var kind = Setting("kind");
var builder = new ServiceCollection().AddCachePatterns();
var servers = Setting("servers").Split(',');
builder = Setting("provider") switch
{
    "redis" => builder.UseRedis(o =>
    {
        o.Configuration = servers[0];
        o.InstanceName = Setting("namespace");
    }),
    "memcached" => builder.UseMemcached(o =>
    {
        foreach (var server in servers)
        {
            o.Servers.Add(server);
        }

        o.KeyPrefix = Setting("namespace");
        o.OperationTimeout = TimeSpan.FromSeconds(3);
        o.ConnectTimeout = TimeSpan.FromSeconds(3);
    }),
    var other => throw new ArgumentException($"--provider {other} is neither redis nor memcached."),
};

// A loaded machine must not turn slow calls into failures: this run is about ordering, not timeouts.
builder.ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));

// --near-cache: the strategy reads through a near cache (L1) in front of the provider (docs/architecture.md, "Near cache").
if (settings.ContainsKey("near-cache"))
{
    builder.WithNearCache();
}
if (kind != "Naive")
{
    builder.AddStrategy<int, string>(Enum.Parse<CacheStrategyKind>(kind), _ => database, _ => database, o => o.Jitter = 0);
}

await using var services = builder.Services.BuildServiceProvider();
ICacheStrategy<int, string> strategy;
Func<int, ValueTask<(bool Found, string? Value)>> peek;
if (kind == "Naive")
{
    var provider = services.GetRequiredKeyedService<ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
    _ = new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<string>(out var serializer);
    var store = provider.CreateStore(new CacheStoreDescriptor<int, string>("naive", "naive:", serializer!));
    strategy = new NaiveCacheAside(store, database);
    peek = async key =>
    {
        var lookup = await store.GetAsync(key, acquireLease: false, CancellationToken.None);
        return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
    };
}
else
{
    strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
    peek = key => strategy.TryGetAsync(key);
}

// Connect before the start line, so both processes race on the keys rather than on their connections.
await strategy.TryGetAsync(0);
Console.WriteLine("ready");
while (Console.ReadLine() is { } command)
{
    switch (command)
    {
        case "go":
            var report = await ConsistencyChecker.RunWorkloadAsync(strategy, database, options, Setting("name"));
            Console.WriteLine("report " + JsonSerializer.Serialize(report));
            break;
        case "check":
            Console.WriteLine("stale " + JsonSerializer.Serialize(await ConsistencyChecker.FindStaleEntriesAsync(database, peek, options.Keys)));
            break;

        // Tags through the ad-hoc ICache of this process (ConsistencyHostRun.TagHost): one word per argument.
        case var tagged when tagged.StartsWith("invalidate-tag ", StringComparison.Ordinal):
            await services.GetRequiredService<ICache>().InvalidateTagAsync(tagged["invalidate-tag ".Length..]);
            Console.WriteLine("invalidated");
            break;
        case var tagged when tagged.StartsWith("set-tagged ", StringComparison.Ordinal):
            var parts = tagged.Split(' ');
            await services.GetRequiredService<ICache>().SetAsync(parts[1], parts[2], new CacheEntryOptions { Tags = [parts[3]] });
            Console.WriteLine("stored");
            break;
        case var tagged when tagged.StartsWith("peek ", StringComparison.Ordinal):
            var (found, value) = await services.GetRequiredService<ICache>().TryGetAsync<string>(tagged["peek ".Length..]);
            Console.WriteLine(found ? "peeked " + value : "peeked <missing>");
            break;
        default:
            return 0;
    }
}

return 0;
