using System.Globalization;
using BenchmarkDotNet.Running;
using CachePatterns.Benchmarks;
using CachePatterns.Benchmarks.Near;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Console modes for counts; everything else goes to BenchmarkDotNet (e.g. --filter '*MemoryHit*', --list flat).
return args switch
{
    ["stampede", ..] => await StampedeRunner.RunAsync(Console.Out),
    ["hitratio", ..] => await HitRatioRunner.RunAsync(Console.Out),
    ["hitpath", ..] => await HitPathRunner.RunAsync(Console.Out),
    ["hybridhit", .. var hybridArgs] => await HybridCacheHitRunner.RunAsync(Console.Out, hybridArgs),
    ["routing", ..] => await RoutingRunner.RunAsync(Console.Out),
    ["routing-mariadb", .. var mariaDbArgs] => await MariaDbRoutingRunner.RunAsync(Console.Out, mariaDbArgs),
    ["routingparts", ..] => await RoutingBreakdownRunner.RunAsync(Console.Out),
    ["mcthroughput", .. var rest] => await MemcachedThroughputRunner.RunAsync(Console.Out, rest),
    ["redisthroughput", .. var throughputArgs] => await RedisThroughputRunner.RunAsync(Console.Out, throughputArgs),
    ["redisalloc", ..] => await RedisAllocationRunner.RunAsync(Console.Out),
    ["redislayers", .. var layerArgs] => await RedisLayerTimingRunner.RunAsync(Console.Out, layerArgs),
    ["redisstampede", ..] => await RedisStampedeRunner.RunAsync(Console.Out),
    ["gray", .. var grayArgs] => await GrayFailureRunner.RunAsync(Console.Out, grayArgs),
    ["tags", ..] => await TagRunner.RunAsync(Console.Out),
    ["tagparts", ..] => await TagHitPartsRunner.RunAsync(Console.Out),
    ["nearhit", ..] => await NearHitRunner.RunAsync(Console.Out),
    ["nearthroughput", ..] => await NearThroughputRunner.RunAsync(Console.Out),
    ["neardelay", .. var delayArgs] => await InvalidationDelayRunner.RunAsync(Console.Out, delayArgs),
    ["nearcheck", .. var checkArgs] => await NearConsistencyRunner.RunAsync(Console.Out, checkArgs),
    ["neardelay-child", var library, var configuration, .. var childArgs] => await InvalidationDelayRunner.ChildAsync(library, configuration, childArgs is ["drop"]),
    ["nearcache", .. var nearArgs] => await NearCacheRunner.RunAsync(Console.Out, nearArgs),
    ["redisstampede-child", var library, var configuration, var key] => await RedisStampedeRunner.ChildAsync(library, configuration, key),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(MemoryHitBenchmarks).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
