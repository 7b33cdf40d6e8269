namespace CachePatterns.Tests.Support;

/// <summary>
/// The randomized concurrency checker: real threads run writers, readers, bulk readers and invalidators over a
/// few keys against a <see cref="FakeDatabase"/> with random delays; at quiescence every value still in the
/// cache must equal the database. Provider test projects link this file and run it against their servers.
/// </summary>
public static class ConsistencyChecker
{
    /// <summary>Runs one round and returns the keys whose cached value differs from the database.</summary>
    /// <param name="cache">The strategy (or a naive stand-in) under test.</param>
    /// <param name="database">The database behind it.</param>
    /// <param name="peek">Reads the cache only: whether the key is cached, and its value.</param>
    /// <param name="options">The shape of the round.</param>
    public static async Task<CheckerReport> RunAsync(
        ICacheStrategy<int, string> cache,
        FakeDatabase database,
        Func<int, ValueTask<(bool Found, string? Value)>> peek,
        CheckerOptions options)
    {
        for (var key = 0; key < options.Keys; key++)
        {
            database.Seed(key, $"k{key}-v0");
        }

        var version = 0;
        var writersLeft = options.Writers;
        var start = new ManualResetEventSlim();
        var workers = new List<Task>();
        for (var w = 0; w < options.Writers; w++)
        {
            var id = w;
            workers.Add(Task.Run(async () =>
            {
                start.Wait();
                for (var i = 0; i < options.OperationsPerWorker; i++)
                {
                    var key = Random.Shared.Next(options.Keys);
                    if (options.Deletes && Random.Shared.Next(10) == 0)
                    {
                        await cache.RemoveAsync(key);
                    }
                    else
                    {
                        await cache.WriteAsync(key, $"k{key}-v{Interlocked.Increment(ref version)}-w{id}");
                    }
                }

                Interlocked.Decrement(ref writersLeft);
            }));
        }

        for (var r = 0; r < options.Readers; r++)
        {
            var id = r;
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
                        await cache.GetManyAsync([key, (key + 1) % options.Keys]);
                    }
                    else
                    {
                        await cache.GetAsync(key);
                    }
                }
            }));
        }

        start.Set();
        await Task.WhenAll(workers);

        var stale = new List<string>();
        for (var key = 0; key < options.Keys; key++)
        {
            var (found, cached) = await peek(key);
            database.TryRead(key, out var stored);
            if (found && cached != stored)
            {
                stale.Add($"key {key}: cache has '{cached ?? "<not found>"}', database has '{stored ?? "<deleted>"}'");
            }
        }

        return new CheckerReport(stale);
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
public sealed record CheckerReport(IReadOnlyList<string> StaleEntries)
{
    public bool IsConsistent => StaleEntries.Count == 0;
}
