namespace CachePatterns.Tests.Support;

/// <summary>
/// The randomized concurrency checker: real threads run writers, readers, bulk readers and invalidators over a
/// few keys against a database with random delays. It asserts two things:
/// <list type="bullet">
/// <item>read-after-completed-write, during the run: a read that began after a write of its key had finished (in this
/// process or, with a shared database, in another one) never returns a row older than that write;</item>
/// <item>at quiescence every value still in the cache equals the database.</item>
/// </list>
/// Provider test projects link this file and run it against their servers, also from two OS processes at once.
/// </summary>
public static class ConsistencyChecker
{
    private const int MaxExamples = 5;
    private const int MaxMissedWrites = 10_000;

    /// <summary>Runs one round: seeds the keys, runs the workload, then compares the cache with the database.</summary>
    /// <param name="cache">The strategy (or a naive stand-in) under test.</param>
    /// <param name="database">The database behind it.</param>
    /// <param name="peek">Reads the cache only: whether the key is cached, and its value.</param>
    /// <param name="options">The shape of the round.</param>
    public static async Task<CheckerReport> RunAsync(
        ICacheStrategy<int, string> cache,
        ICheckedDatabase database,
        Func<int, ValueTask<(bool Found, string? Value)>> peek,
        CheckerOptions options)
    {
        for (var key = 0; key < options.Keys; key++)
        {
            database.Seed(key, $"k{key}-v0");
        }

        var workload = await RunWorkloadAsync(cache, database, options, writerName: "w");
        return workload with { StaleEntries = await FindStaleEntriesAsync(database, peek, options.Keys) };
    }

    /// <summary>
    /// Runs the workload only (no seeding, no check at quiescence): what each process runs when several share one
    /// database and one cache. <paramref name="writerName"/> keeps the values of different processes unique.
    /// </summary>
    public static async Task<CheckerReport> RunWorkloadAsync(ICacheStrategy<int, string> cache, ICheckedDatabase database, CheckerOptions options, string writerName)
    {
        var version = 0;
        var writersLeft = options.Writers;
        var reads = 0;
        var older = 0;
        long widestWindow = 0;
        var deferred = 0;
        var missedWrites = new System.Collections.Concurrent.ConcurrentQueue<long>();
        var examples = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var start = new ManualResetEventSlim();
        var workers = new List<Task>();

        void Check(int key, long floor, long began, string? value, string how)
        {
            Interlocked.Increment(ref reads);
            if (!database.IsAtLeast(key, value, floor))
            {
                Interlocked.Increment(ref older);
                if (database.CompletedAt(floor) is { } completed)
                {
                    if (missedWrites.Count < MaxMissedWrites)
                    {
                        missedWrites.Enqueue(completed);
                    }

                    var window = began - completed;
                    for (var widest = Volatile.Read(ref widestWindow); window > widest; widest = Volatile.Read(ref widestWindow))
                    {
                        if (Interlocked.CompareExchange(ref widestWindow, window, widest) == widest)
                        {
                            break;
                        }
                    }
                }

                if (examples.Count < MaxExamples)
                {
                    examples.Enqueue($"{how} of key {key} returned '{value ?? "<not found>"}', older than the write committed as #{floor} that finished before it began");
                }
            }
        }

        for (var w = 0; w < options.Writers; w++)
        {
            var id = $"{writerName}{w}";
            workers.Add(Task.Run(async () =>
            {
                start.Wait();
                var receipt = CommitReceipt.Begin();
                for (var i = 0; i < options.OperationsPerWorker; i++)
                {
                    var key = Random.Shared.Next(options.Keys);
                    receipt.Value = 0;
                    receipt.CacheStepDeferred = false;
                    if (options.Deletes && Random.Shared.Next(10) == 0)
                    {
                        await cache.RemoveAsync(key);
                    }
                    else
                    {
                        await cache.WriteAsync(key, $"k{key}-v{Interlocked.Increment(ref version)}-{id}");
                    }

                    if (receipt.CacheStepDeferred)
                    {
                        Interlocked.Increment(ref deferred);
                    }
                    else
                    {
                        database.Complete(key, receipt.Value);
                    }
                }

                Interlocked.Decrement(ref writersLeft);
            }));
        }

        for (var r = 0; r < options.Readers; r++)
        {
            workers.Add(Task.Run(async () =>
            {
                start.Wait();

                // Readers keep going until the last write is done, so the final writes race with loads too.
                for (var i = 0; i < options.OperationsPerWorker || Volatile.Read(ref writersLeft) > 0; i++)
                {
                    var key = Random.Shared.Next(options.Keys);
                    var dice = Random.Shared.Next(20);
                    if (dice == 0 && options.Invalidations)
                    {
                        await cache.InvalidateAsync(key);
                    }
                    else if (dice == 1 && options.BulkReads)
                    {
                        var other = (key + 1) % options.Keys;
                        var floor = database.Floor(key);
                        var otherFloor = database.Floor(other);
                        var began = System.Diagnostics.Stopwatch.GetTimestamp();
                        var values = await cache.GetManyAsync([key, other]);
                        Check(key, floor, began, values.GetValueOrDefault(key), "GetManyAsync");
                        if (other != key)
                        {
                            Check(other, otherFloor, began, values.GetValueOrDefault(other), "GetManyAsync");
                        }
                    }
                    else
                    {
                        var floor = database.Floor(key);
                        var began = System.Diagnostics.Stopwatch.GetTimestamp();
                        Check(key, floor, began, await cache.GetAsync(key), "GetAsync");
                    }
                }
            }));
        }

        start.Set();
        await Task.WhenAll(workers);
        return new CheckerReport([], reads, older, [.. examples], widestWindow * 1000.0 / System.Diagnostics.Stopwatch.Frequency, deferred, MissedWriteCompletions: [.. missedWrites]);
    }

    /// <summary>Compares every key still cached with the database, at quiescence.</summary>
    public static async Task<IReadOnlyList<string>> FindStaleEntriesAsync(ICheckedDatabase database, Func<int, ValueTask<(bool Found, string? Value)>> peek, int keys)
    {
        var stale = new List<string>();
        for (var key = 0; key < keys; key++)
        {
            var (found, cached) = await peek(key);
            database.TryRead(key, out var stored);
            if (found && cached != stored)
            {
                stale.Add($"key {key}: cache has '{cached ?? "<not found>"}', database has '{stored ?? "<deleted>"}'");
            }
        }

        return stale;
    }
}

/// <summary>The shape of one checker round.</summary>
public sealed record CheckerOptions(
    int Keys = 3,
    int Writers = 3,
    int Readers = 6,
    int OperationsPerWorker = 300,
    bool Invalidations = true,
    bool BulkReads = true,
    bool Deletes = true);

/// <summary>What one checker round found.</summary>
/// <param name="StaleEntries">Keys whose cached value differs from the database at quiescence.</param>
/// <param name="Reads">The reads checked for read-after-completed-write.</param>
/// <param name="OlderThanCompletedWrite">Reads that returned a row older than a write finished before they began.</param>
/// <param name="Examples">A few of those reads, described.</param>
/// <param name="WindowMilliseconds">
/// The longest time by which such a read began after the write it missed had finished (0 without such reads, or when the
/// database does not record completion times): how long an older row stayed readable.
/// </param>
/// <param name="WritesDeferred">Writes whose cache step failed and went to the invalidation ledger: not required to be seen by other processes' reads (by design), so they publish no floor.</param>
/// <param name="NearCacheHits">Reads the library's near cache answered (counted by the two-process host; 0 elsewhere).</param>
/// <param name="InvalidationDelayMilliseconds">The longest invalidation delay the near caches measured (publish to arrival; 0 without a near cache).</param>
/// <param name="MissedWriteCompletions">
/// For each read older than a finished write (up to 10,000), when that write finished (<see cref="ICheckedDatabase.CompletedAt"/>):
/// lets a run with a fault ask whether a read missed a write finished during the outage.
/// </param>
public sealed record CheckerReport(IReadOnlyList<string> StaleEntries, int Reads = 0, int OlderThanCompletedWrite = 0, IReadOnlyList<string>? Examples = null, double WindowMilliseconds = 0, int WritesDeferred = 0, long NearCacheHits = 0, double InvalidationDelayMilliseconds = 0, IReadOnlyList<long>? MissedWriteCompletions = null)
{
    public bool IsConsistent => StaleEntries.Count == 0 && OlderThanCompletedWrite == 0;

    public override string ToString() =>
        $"{StaleEntries.Count} stale entries, {OlderThanCompletedWrite} of {Reads} reads older than a completed write (window {WindowMilliseconds:0.###} ms), {WritesDeferred} writes deferred to the ledger, {NearCacheHits} near-cache hits, invalidation delay up to {InvalidationDelayMilliseconds:0.###} ms. " +
        string.Join("; ", StaleEntries.Concat(Examples ?? []));
}
