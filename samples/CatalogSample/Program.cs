// CatalogSample: the main job of CachePatterns, end to end, on a machine with no servers.
//
// 1. Seeds a product catalogue in SQLite with Dapper.
// 2. Generates one workload: mostly single reads, some batch reads and price/stock updates, over Zipf-skewed keys.
// 3. Replays it directly against SQLite, then through a cache-aside and a write-through strategy
//    (ProductRepository is the loader and writer, registered with services.AddCachePatterns()).
// 4. Prints throughput, cache counters (from a MeterListener) and latency side by side, and checks that
//    every product read through the cache equals its database row. Exit code 1 if one does not.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using CachePatterns;
using CatalogSample;

var options = SampleOptions.Parse(args, out var error);
if (options is null)
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(SampleOptions.Usage);
    return 2;
}

if (options.ShowHelp)
{
    Console.WriteLine(SampleOptions.Usage);
    return 0;
}

Console.OutputEncoding = Encoding.UTF8;

// The workers rarely yield (SQLite calls and cache hits complete synchronously): give the thread pool
// enough threads up front rather than letting it find out slowly.
ThreadPool.GetMinThreads(out var minWorkerThreads, out var minIoThreads);
ThreadPool.SetMinThreads(Math.Max(minWorkerThreads, options.Workers * 2), minIoThreads);

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

var total = Stopwatch.StartNew();
var workload = Workload.Generate(new WorkloadSettings
{
    Operations = options.Operations,
    Products = options.Products,
    Seed = options.Seed,
});
PrintHeader(options, workload);

var results = new List<ScenarioResult>();
try
{
    results.Add(Report(await Scenarios.RunWithoutCacheAsync("SQLite only", options, workload, cancellation.Token)));
    results.Add(Report(await Scenarios.RunWithCacheAsync("cache-aside", CacheStrategyKind.CacheAside, options, workload, cancellation.Token)));
    results.Add(Report(await Scenarios.RunWithCacheAsync("write-through", CacheStrategyKind.WriteThrough, options, workload, cancellation.Token)));
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled.");
    return 130;
}

Console.WriteLine();
Console.Write(ResultsReport.Build(results));
Console.WriteLine();
Console.WriteLine("""
    Notes
      - Hits and misses count keys: a batch read of 15 products is 15 lookups, and an update reads before it saves.
      - A load is one loader call: one SELECT for a single read, one SELECT ... IN (...) for the misses of a batch read.
      - A fenced fill is a loaded value the cache refused to store because a write of the same product began while
        it was loading (the value may predate the write). With write-through, two overlapping writes of one product
        remove it, and until it is cached again, reads that overlap a write of it load it without storing it:
        popular products that are written often show up here.
      - SQLite runs in this process, so a query costs tens of microseconds; with a database server, every query the
        cache avoids also saves a network round trip (typically 0.2-1 ms).

    """);

var consistent = true;
foreach (var result in results)
{
    if (result.Consistency is not { } check)
    {
        continue;
    }

    consistent &= check.IsConsistent;
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"[{result.Name}] consistency check: {check.Matching}/{check.Checked} entries match the database ({check.ServedFromCache} served from the cache)"));
    foreach (var mismatch in check.Mismatches)
    {
        Console.WriteLine("    " + mismatch);
    }
}

Console.WriteLine();
Console.WriteLine($"Done in {ResultsReport.Seconds(total.Elapsed)}.");
return consistent ? 0 : 1;

static ScenarioResult Report(ScenarioResult result)
{
    Console.WriteLine($"  {result.Name,-14} {ResultsReport.Seconds(result.Run.Elapsed),9}");
    return result;
}

static void PrintHeader(SampleOptions options, Workload workload)
{
    var settings = workload.Settings;
    var topOnePercent = Math.Max(1, options.Products / 100);
    string Count(long value) => ResultsReport.Count(value);
    string Percent(double ratio) => ResultsReport.Percent(ratio);

    Console.WriteLine("CachePatterns catalogue sample");
    Console.WriteLine($"  database  SQLite in a temporary file (WAL), {Count(options.Products)} products seeded with Dapper, new for each run");
    Console.WriteLine($"  workload  {Count(options.Operations)} operations, {options.Workers} concurrent workers, random seed {options.Seed}");
    Console.WriteLine($"            {Count(workload.Count(OperationKind.Read))} reads, {Count(workload.Count(OperationKind.BatchRead))} batch reads of "
        + $"{settings.MinBatchSize}-{settings.MaxBatchSize} products, "
        + $"{Count(workload.Count(OperationKind.UpdatePrice) + workload.Count(OperationKind.UpdateStock))} price or stock updates");
    Console.WriteLine($"            Zipf key popularity (s = {settings.ZipfExponent.ToString("0.0#", CultureInfo.InvariantCulture)}): "
        + $"the top {Count(topOnePercent)} products get {Percent(workload.Popularity.ShareOfTop(topOnePercent))} of the requests, "
        + $"the top {Count(options.MaxEntries)} get {Percent(workload.Popularity.ShareOfTop(options.MaxEntries))}");
    Console.WriteLine($"  cache     in-memory provider, MaxEntries = {Count(options.MaxEntries)} "
        + $"({Percent((double)options.MaxEntries / options.Products)} of the catalogue), least recently used evicted first");
    Console.WriteLine();
    Console.WriteLine("Running (wall time):");
}
