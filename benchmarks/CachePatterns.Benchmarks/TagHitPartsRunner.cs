using System.Diagnostics;
using System.Globalization;
using System.Text;
using CachePatterns.Providers;
using CachePatterns.Redis;
using CachePatterns.Serialization;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>tagparts</c> mode: where the time of a tagged Redis hit goes. Raw StackExchange.Redis calls of the pieces (a
/// plain GET, EVALSHA of a one-line GET script, EVALSHA of the provider's read script on an untagged and a tagged entry,
/// the GET and MGET pipelined) next to the provider's hits, interleaved round by round; then each row alone with the
/// client's CPU time, redis-server's CPU time and the server's own time per command (<c>INFO commandstats</c>).
/// </summary>
public static class TagHitPartsRunner
{
    private const int Rounds = 30;
    private const int CallsPerRound = 1_000;
    private static long _exceptions;

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"load average at start: {TagRunner.LoadAverage()}");
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Increment(ref _exceptions);
        using var redis = RedisBenchServer.Start();
        var services = new ServiceCollection();
        services.AddCachePatterns("u").UseRedis(o => (o.Configuration, o.InstanceName) = (redis.Configuration, "u:"))
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        services.AddCachePatterns("t").UseRedis(o => (o.Configuration, o.InstanceName) = (redis.Configuration, "t:"))
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5));
        await using var provider = services.BuildServiceProvider();
        var untagged = provider.GetRequiredKeyedService<ICache>("u");
        var tagged = provider.GetRequiredKeyedService<ICache>("t");
        await untagged.SetAsync("hit", "value", CacheEntryOptions.ExpireAfter(TimeSpan.FromHours(1)));
        await tagged.SetAsync("hit1", "value", new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromHours(1) });
        await tagged.SetAsync("hit3", "value", new CacheEntryOptions { Tags = ["category:5", "shop", "page:1"], Expiration = TimeSpan.FromHours(1) });

        var configuration = ConfigurationOptions.Parse(redis.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AllowAdmin = true;
        await using var raw = await ConnectionMultiplexer.ConnectAsync(configuration);
        var db = raw.GetDatabase();
        var server = raw.GetServer(raw.GetEndPoints()[0]);
        RedisKey untaggedKey = server.Keys(pattern: "\\{u:*hit}").Single();
        RedisKey taggedKey = server.Keys(pattern: "\\{t:*hit1}").Single();
        RedisValue tagPrefix = "{t:~tags}:t:";
        if (!(await db.KeyExistsAsync(tagPrefix + "category:5")))
        {
            throw new InvalidOperationException("The tag version key is not where this runner expects it.");
        }

        const string OneLineGet = "return redis.call('GET', KEYS[1])";
        var plainScript = await server.ScriptLoadAsync(ReadScriptText());
        var oneLine = await server.ScriptLoadAsync(OneLineGet);
        RedisKey[] untaggedKeys = [untaggedKey];
        RedisKey[] taggedKeys = [taggedKey];
        RedisValue[] prefixArgs = [tagPrefix];
        RedisKey[] versionKeys = [(string)tagPrefix! + "category:5"];
        RedisKey[] entryAndVersion = [taggedKey, .. versionKeys];
        RedisKey[] threeVersionKeys = [(string)tagPrefix! + "category:5", (string)tagPrefix! + "shop", (string)tagPrefix! + "page:1"];

        RedisKey[] entryAndThreeVersions = [taggedKey, .. threeVersionKeys];

        using var storeProvider = new RedisCacheProvider(Microsoft.Extensions.Options.Options.Create(new RedisCacheProviderOptions { Configuration = redis.Configuration, InstanceName = "s:" }));
        var storeUntagged = await RedisHitFixture.CreateWarmStoreAsync(storeProvider);
        var storeTagged = storeProvider.CreateStore(new CacheStoreDescriptor<int, Product>("TaggedProduct", "TaggedProduct:", Serializer()));
        await storeTagged.SetAsync(RedisHitFixture.Key, CacheValue<Product>.Of(Product.Sample), new StoreEntryOptions(TimeSpan.FromHours(1)) { Tags = ["category:5"] }, default);
        await storeTagged.SetAsync(RedisHitFixture.Key + 1, CacheValue<Product>.Of(Product.Sample), new StoreEntryOptions(TimeSpan.FromHours(1)) { Tags = ["category:5", "shop", "page:1"] }, default);
        using var cancellable = new CancellationTokenSource();

        var rows = new (string Name, string Command, Func<ValueTask> Call)[]
        {
            ("raw GET (lease), untagged entry", "get", async () => (await db.StringGetLeaseAsync(untaggedKey))!.Dispose()),
            ("raw EVALSHA one-line GET script", "evalsha", async () => await db.ScriptEvaluateAsync(oneLine, untaggedKeys)),
            ("raw EVALSHA read script, untagged entry", "evalsha", async () => await db.ScriptEvaluateAsync(plainScript, untaggedKeys, prefixArgs)),
            ("raw EVALSHA read script, tagged entry", "evalsha", async () => await db.ScriptEvaluateAsync(plainScript, taggedKeys, prefixArgs)),
            ("raw GET + MGET versions, one batch", "get", async () => await GetAndVersionsAsync(db, taggedKey, versionKeys)),
            ("raw GET + MGET versions, two commands", "get", async () => await GetThenVersionsAsync(db, taggedKey, versionKeys)),
            ("raw GET + MGET 3 versions, two commands", "get", async () => await GetThenVersionsAsync(db, taggedKey, threeVersionKeys)),
            ("raw GET + MGET 3 versions, one batch", "get", async () => await GetAndVersionsAsync(db, taggedKey, threeVersionKeys)),
            ("raw MGET entry + 1 version", "mget", async () => await db.StringGetAsync(entryAndVersion)),
            ("raw MGET entry + 3 versions", "mget", async () => await db.StringGetAsync(entryAndThreeVersions)),
            ("store GetAsync, untagged", "get", async () => await storeUntagged.GetAsync(RedisHitFixture.Key, false, cancellable.Token)),
            ("store GetAsync, 1 tag", "evalsha", async () => await storeTagged.GetAsync(RedisHitFixture.Key, false, cancellable.Token)),
            ("store GetAsync, 3 tags", "evalsha", async () => await storeTagged.GetAsync(RedisHitFixture.Key + 1, false, cancellable.Token)),
            ("ICache hit, untagged", "get", async () => await untagged.TryGetAsync<string>("hit")),
            ("ICache hit, 1 tag", "evalsha", async () => await tagged.TryGetAsync<string>("hit1")),
            ("ICache hit, 3 tags", "evalsha", async () => await tagged.TryGetAsync<string>("hit3")),
        };

        var means = rows.Select(_ => new double[Rounds]).ToArray();
        for (var round = -5; round < Rounds; round++)
        {
            for (var r = 0; r < rows.Length; r++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < CallsPerRound; i++)
                {
                    await rows[r].Call();
                }

                if (round >= 0)
                {
                    means[r][round] = Stopwatch.GetElapsedTime(started).TotalMicroseconds / CallsPerRound;
                }
            }
        }

        output.WriteLine();
        output.WriteLine($"{Rounds} rounds of {CallsPerRound:N0} sequential calls per row, rows interleaved; load average {TagRunner.LoadAverage()}.");
        output.WriteLine();
        output.WriteLine("| path | median of round means | p25–p75 | ratio to raw GET |");
        output.WriteLine("|---|---:|---:|---:|");
        var baseline = InterleavedBatches.Percentile(means[0], 0.5);
        for (var r = 0; r < rows.Length; r++)
        {
            var median = InterleavedBatches.Percentile(means[r], 0.5);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[r].Name} | {median:N1} µs | {InterleavedBatches.Percentile(means[r], 0.25):N1}–{InterleavedBatches.Percentile(means[r], 0.75):N1} µs | {median / baseline:N2} |"));
        }

        output.WriteLine();
        output.WriteLine("Each row alone, 20,000 calls: wall time, this process's CPU time and redis-server's CPU time per call, and the server's own time per command.");
        output.WriteLine();
        output.WriteLine("| path | wall | client CPU | redis-server CPU | server usec_per_call (command) | allocated per call | exceptions |");
        output.WriteLine("|---|---:|---:|---:|---|---:|---:|");
        foreach (var row in rows)
        {
            const int Calls = 20_000;
            await server.ConfigResetStatisticsAsync();
            var serverBefore = RedisLayerTimingRunner.ServerCpu(await server.InfoRawAsync("cpu"));
            var processBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var exceptionsBefore = Volatile.Read(ref _exceptions);
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Calls; i++)
            {
                await row.Call();
            }

            var wall = watch.Elapsed;
            var client = Process.GetCurrentProcess().TotalProcessorTime - processBefore;
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var exceptions = Volatile.Read(ref _exceptions) - exceptionsBefore;
            var serverCpu = RedisLayerTimingRunner.ServerCpu(await server.InfoRawAsync("cpu")) - serverBefore;
            var stats = CommandStats(await server.InfoRawAsync("commandstats"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Name} | {wall.TotalMicroseconds / Calls:N1} µs | {client.TotalMicroseconds / Calls:N1} µs | {serverCpu * 1e6 / Calls:N1} µs | {stats} | {allocated / Calls} B | {exceptions} |"));
        }

        output.WriteLine();
        output.WriteLine($"load average at end: {TagRunner.LoadAverage()}");
        return 0;
    }

    private static async Task<RedisValue[]> GetAndVersionsAsync(IDatabase db, RedisKey key, RedisKey[] versionKeys)
    {
        var batch = db.CreateBatch();
        var get = batch.StringGetLeaseAsync(key);
        var versions = batch.StringGetAsync(versionKeys);
        batch.Execute();
        (await get.ConfigureAwait(false))?.Dispose();
        return await versions.ConfigureAwait(false);
    }

    private static ICacheSerializer<Product> Serializer() =>
        new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<Product>(out var serializer) ? serializer : throw new InvalidOperationException("No serializer for Product.");

    private static async Task<RedisValue[]> GetThenVersionsAsync(IDatabase db, RedisKey key, RedisKey[] versionKeys)
    {
        var get = db.StringGetLeaseAsync(key);
        var versions = db.StringGetAsync(versionKeys);
        (await get.ConfigureAwait(false))?.Dispose();
        return await versions.ConfigureAwait(false);
    }

    /// <summary>The provider's plain read script, as the server knows it (loaded by the provider's first hit).</summary>
    private static string ReadScriptText()
    {
        var type = typeof(RedisCacheProviderOptions).Assembly.GetType("CachePatterns.Redis.Internal.RedisScripts", throwOnError: true)!;
        return (string)type.GetField("GetPlain")!.GetValue(null)!;
    }

    private static string CommandStats(string? info)
    {
        var parts = new StringBuilder();
        foreach (var line in (info ?? string.Empty).Split('\n'))
        {
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && !line.StartsWith("cmdstat_config", StringComparison.Ordinal) && !line.StartsWith("cmdstat_info", StringComparison.Ordinal))
            {
                var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
                var perCall = line.Split(',').First(p => p.StartsWith("usec_per_call=", StringComparison.Ordinal))["usec_per_call=".Length..];
                parts.Append(CultureInfo.InvariantCulture, $"{name} {perCall.Trim()} ");
            }
        }

        return parts.ToString().Trim();
    }
}
