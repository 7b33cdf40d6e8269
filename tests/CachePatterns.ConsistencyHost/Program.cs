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

// A write whose cache step failed is deferred to the ledger, which by design does not protect other processes' reads:
// the checker exempts it (and counts it). The counter is recorded on the writer's own flow, where its receipt is. Reads
// answered by the near cache are counted too, to show the run used it.
long nearHits = 0;
var maxDelaySeconds = 0.0;
using var listener = new System.Diagnostics.Metrics.MeterListener();
listener.InstrumentPublished = (instrument, meters) =>
{
    if (instrument.Name is CachePatterns.Diagnostics.CacheDiagnostics.InvalidationsDeferred or CachePatterns.Diagnostics.CacheDiagnostics.NearHits
        or CachePatterns.Diagnostics.CacheDiagnostics.NearInvalidationDelay)
    {
        meters.EnableMeasurementEvents(instrument);
    }
};
listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
{
    if (instrument.Name == CachePatterns.Diagnostics.CacheDiagnostics.NearHits)
    {
        Interlocked.Add(ref nearHits, value);
    }
    else
    {
        CommitReceipt.RecordCacheStepDeferred();
    }
});
// The near cache's own measure of each invalidation's delay (publish on the server to arrival here): a read older than a
// finished write is within the design's window when it began before that write's invalidation could have arrived.
listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
{
    lock (listener)
    {
        maxDelaySeconds = Math.Max(maxDelaySeconds, seconds);
    }
});
listener.Start();

var kind = Setting("kind");
var servers = Setting("servers").Split(',');
var prefix = Setting("namespace");

// The stack under test, and the same stack without the near cache: at quiescence both are checked, so a stale entry is
// found whether it is left in the near cache (L1) or in the server. Kinds: CacheAside and WriteThrough (--near puts the
// library's near cache in front); Naive, the unfenced cache-aside; NaiveNear, an unfenced L1 with invalidation messages
// in front of the fenced cache-aside; Fusion, FusionCache with memory level, Redis level and backplane.
var remoteKind = kind switch
{
    "Naive" or "Fusion" => (CacheStrategyKind?)null,
    "NaiveNear" => CacheStrategyKind.CacheAside,
    _ => Enum.Parse<CacheStrategyKind>(kind),
};
// --near (or --near-cache): the strategy reads through the near cache (L1) in front of the provider (docs/architecture.md, "Near cache").
var near = settings.ContainsKey("near") || settings.ContainsKey("near-cache");
await using var services = BuildServices(near);
await using var remoteServices = near ? BuildServices(near: false) : null;
await using var disposables = new DisposableList();
ICacheStrategy<int, string> strategy;
Func<int, ValueTask<(bool Found, string? Value)>> peek;
Func<int, ValueTask<(bool Found, string? Value)>>? peekRemote = null;
switch (kind)
{
    case "Naive":
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
        break;
    }

    case "NaiveNear":
    {
        var remote = services.GetRequiredService<ICacheStrategy<int, string>>();
        var naive = await NaiveNearCache.CreateAsync(remote, servers[0], prefix + "naive-near");
        disposables.Add(naive);
        strategy = naive;
        peek = key => naive.TryGetAsync(key);
        peekRemote = key => remote.TryGetAsync(key);
        break;
    }

    case "Fusion":
    {
        var fusion = new FusionCacheStrategy(servers[0], prefix, database);
        var remote = new FusionCacheStrategy(servers[0], prefix, database, memoryLevel: false);
        disposables.Add(fusion);
        disposables.Add(remote);
        strategy = fusion;
        peek = key => fusion.TryGetAsync(key);
        peekRemote = key => remote.TryGetAsync(key);
        break;
    }

    default:
        strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        peek = key => strategy.TryGetAsync(key);
        if (remoteServices is not null)
        {
            var remote = remoteServices.GetRequiredService<ICacheStrategy<int, string>>();
            peekRemote = key => remote.TryGetAsync(key);
        }

        break;
}

if (settings.TryGetValue("midway", out var midway))
{
    strategy = new MidwaySignal(strategy, int.Parse(midway, CultureInfo.InvariantCulture));
}

// Connect before the start line, so both processes race on the keys rather than on their connections.
await strategy.TryGetAsync(0);
Console.WriteLine("ready");
while (Console.ReadLine() is { } command)
{
    switch (command)
    {
        case "go":
            var report = await ConsistencyChecker.RunWorkloadAsync(strategy, database, options, Setting("name")) with
            {
                NearCacheHits = Interlocked.Read(ref nearHits),
                InvalidationDelayMilliseconds = Volatile.Read(ref maxDelaySeconds) * 1000,
            };
            Console.WriteLine("report " + JsonSerializer.Serialize(report));
            break;
        case "check":
            var stale = await ConsistencyChecker.FindStaleEntriesAsync(database, peek, options.Keys);
            if (peekRemote is not null)
            {
                stale = [.. stale.Select(s => "near cache: " + s), .. (await ConsistencyChecker.FindStaleEntriesAsync(database, peekRemote, options.Keys)).Select(s => "server: " + s)];
            }

            Console.WriteLine("stale " + JsonSerializer.Serialize(stale));
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

ServiceProvider BuildServices(bool near)
{
    var builder = new ServiceCollection().AddCachePatterns();
    builder = Setting("provider") switch
    {
        "redis" => builder.UseRedis(o =>
        {
            o.Configuration = servers[0];
            o.InstanceName = prefix;
        }),
        "memcached" => builder.UseMemcached(o =>
        {
            foreach (var server in servers)
            {
                o.Servers.Add(server);
            }

            o.KeyPrefix = prefix;
            o.OperationTimeout = TimeSpan.FromSeconds(3);
            o.ConnectTimeout = TimeSpan.FromSeconds(3);
        }),
        var other => throw new ArgumentException($"--provider {other} is neither redis nor memcached."),
    };

    if (near)
    {
        builder.WithNearCache();
    }

    // A loaded machine must not turn slow calls into failures: this run is about ordering, not timeouts.
    builder.ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
    if (remoteKind is { } strategyKind)
    {
        builder.AddStrategy<int, string>(strategyKind, _ => database, _ => database, o => o.Jitter = 0);
    }

    return builder.Services.BuildServiceProvider();
}

/// <summary>What the run created besides the service providers, disposed at the end.</summary>
internal sealed class DisposableList : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _items = [];

    public void Add(IAsyncDisposable item) => _items.Add(item);

    public async ValueTask DisposeAsync()
    {
        foreach (var item in _items)
        {
            await item.DisposeAsync();
        }
    }
}
