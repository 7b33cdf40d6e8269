using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>redisstampede</c> mode: <see cref="Processes"/> processes × <see cref="CallersPerProcess"/> callers ask one cold
/// key at once, every library over the same redis-server (no local copy where the library allows it); the loader takes
/// 50 ms and counts itself with <c>INCR</c> on Redis, so loads are counted across processes. Each library runs
/// <see cref="Repetitions"/> times on a fresh key.
/// </summary>
public static class RedisStampedeRunner
{
    public const int Processes = 4;
    public const int CallersPerProcess = 250;
    private const int Repetitions = 3;
    private static readonly TimeSpan LoaderDelay = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var server = RedisBenchServer.Start();
        await using var raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        output.WriteLine($"{Processes} processes × {CallersPerProcess} callers, one cold key, loader awaits {LoaderDelay.TotalMilliseconds:0} ms; {Repetitions} runs per library, fresh key each run; {Environment.ProcessorCount} cores.");
        output.WriteLine();
        output.WriteLine("| library | processes × callers | loads per run | loads (max) |");
        output.WriteLine("|---|---|---|---:|");
        foreach (var library in new[] { "cachepatterns", "fusioncache", "hybridcache" })
        {
            var loads = new List<long>();
            for (var run = 0; run < Repetitions; run++)
            {
                var key = $"{library}-{run}";
                await RunOnceAsync(server.Configuration, library, key);
                loads.Add((long)await raw.GetDatabase().StringGetAsync("loads:" + key));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {library} | {Processes} × {CallersPerProcess} | {string.Join(", ", loads)} | {loads.Max()} |"));
        }

        return 0;
    }

    /// <summary>Starts the processes, waits until each is connected and ready, then tells them all to go at once.</summary>
    private static async Task RunOnceAsync(string configuration, string library, string key)
    {
        var self = Environment.ProcessPath!;
        var assembly = typeof(RedisStampedeRunner).Assembly.Location;
        var children = new List<Process>();
        for (var i = 0; i < Processes; i++)
        {
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(assembly);
            }

            foreach (var arg in new[] { "redisstampede-child", library, configuration, key })
            {
                start.ArgumentList.Add(arg);
            }

            children.Add(Process.Start(start)!);
        }

        foreach (var child in children)
        {
            var line = await child.StandardOutput.ReadLineAsync();
            if (line != "ready")
            {
                throw new InvalidOperationException($"A stampede process said '{line}' instead of 'ready'.");
            }
        }

        foreach (var child in children)
        {
            await child.StandardInput.WriteLineAsync("go");
            await child.StandardInput.FlushAsync();
        }

        foreach (var child in children)
        {
            var line = await child.StandardOutput.ReadLineAsync();
            await child.WaitForExitAsync();
            if (line != "done" || child.ExitCode != 0)
            {
                throw new InvalidOperationException($"A stampede process failed: '{line}', exit code {child.ExitCode}.");
            }

            child.Dispose();
        }
    }

    /// <summary>One process of the stampede: connects, says ready, waits for go, runs its callers, says done.</summary>
    public static async Task<int> ChildAsync(string library, string configuration, string key)
    {
        await using var raw = await ConnectionMultiplexer.ConnectAsync(configuration);
        var db = raw.GetDatabase();
        async Task<Product> LoadAsync()
        {
            await db.StringIncrementAsync("loads:" + key);
            await Task.Delay(LoaderDelay);
            return Product.Sample;
        }

        var services = new ServiceCollection();
        services.AddCachePatterns()
            .UseRedis(o => o.Configuration = configuration)
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .ConfigureDefaults(o =>
            {
                o.LeaseWaitTimeout = TimeSpan.FromSeconds(10);
                o.Expiration = TimeSpan.FromMinutes(5);
            });
        services.AddStackExchangeRedisCache(o => o.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(raw));
        services.AddHybridCache();
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<ICache>();
        using var fusion = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = RedisHitFixture.FusionOptions });
        fusion.SetupDistributedCache(provider.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>(), new FusionCacheSystemTextJsonSerializer());
        var hybrid = provider.GetRequiredService<HybridCache>();
        Func<Task> call = library switch
        {
            "cachepatterns" => async () => await cache.GetOrLoadAsync(key, async _ => await LoadAsync()),
            "fusioncache" => async () => await fusion.GetOrSetAsync<Product>(key, async _ => await LoadAsync(), RedisHitFixture.FusionOptions),
            "hybridcache" => async () => await hybrid.GetOrCreateAsync(key, async _ => await LoadAsync(), RedisHitFixture.HybridOptions),
            _ => throw new ArgumentException($"Unknown library '{library}'.", nameof(library)),
        };

        // Connect everything before the start signal, so the callers race on the key rather than on connections.
        await cache.GetOrLoadAsync("warm", _ => ValueTask.FromResult(Product.Sample));
        await db.PingAsync();
        Console.WriteLine("ready");
        _ = await Console.In.ReadLineAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, CallersPerProcess).Select(_ => Task.Run(async () =>
        {
            await gate.Task;
            await call();
        })).ToArray();
        gate.SetResult();
        await Task.WhenAll(callers);
        Console.WriteLine("done");
        return 0;
    }
}
