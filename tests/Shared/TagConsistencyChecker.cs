using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>
/// The randomized checker for tags (docs/architecture.md, "Tags"): cached query results ("category c, page p"), each
/// tagged with its category, over a database of per-category versions. Writers commit a new version of a category and
/// then invalidate its tag; readers get-or-load the queries. It asserts, during the run, that a read that began after a
/// category's tag invalidation returned never gets a result older than the commit before it (a load that began before
/// the invalidation was fenced), and at quiescence that every cached query equals the database. Linked into every
/// provider's test project; a naive cache that stamps a value when it stores it (not when its load began, as HybridCache
/// re-stamps) must be caught.
/// </summary>
public static class TagConsistencyChecker
{
    private const int MaxExamples = 5;

    /// <summary>Runs one round over <paramref name="caches"/> (clients of one cache: readers and writers use them in turn).</summary>
    public static async Task<CheckerReport> RunAsync(IReadOnlyList<ITaggedCache> caches, TagCheckerOptions options)
    {
        var database = new TagDatabase(options.Categories, options.MaxDelaySpins);
        var run = Guid.NewGuid().ToString("N")[..8];
        string Query(int category, int page) => $"q:{run}:{category}:{page}";
        string[] Tags(int category, int page) => [$"cat:{run}:{category}", $"page:{run}:{page}"];

        var writersLeft = options.Writers;
        var reads = 0;
        var older = 0;
        var examples = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var start = new ManualResetEventSlim();
        var workers = new List<Task>();
        for (var w = 0; w < options.Writers; w++)
        {
            var cache = caches[w % caches.Count];
            workers.Add(Task.Run(async () =>
            {
                start.Wait();
                for (var i = 0; i < options.OperationsPerWorker; i++)
                {
                    var category = Random.Shared.Next(options.Categories);
                    var version = database.Commit(category);
                    await cache.InvalidateTagAsync($"cat:{run}:{category}");
                    database.Completed(category, version);
                    if (Random.Shared.Next(8) == 0)
                    {
                        // Noise: a tag that changes nothing in the database still makes its entries misses.
                        await cache.InvalidateTagAsync($"page:{run}:{Random.Shared.Next(options.Pages)}");
                    }
                }

                Interlocked.Decrement(ref writersLeft);
            }));
        }

        for (var r = 0; r < options.Readers; r++)
        {
            var cache = caches[r % caches.Count];
            workers.Add(Task.Run(async () =>
            {
                start.Wait();
                for (var i = 0; i < options.OperationsPerWorker || Volatile.Read(ref writersLeft) > 0; i++)
                {
                    var category = Random.Shared.Next(options.Categories);
                    var page = Random.Shared.Next(options.Pages);
                    var floor = database.Floor(category);
                    var value = await cache.GetOrLoadAsync(Query(category, page), Tags(category, page), ct => database.LoadAsync(category));
                    Interlocked.Increment(ref reads);
                    if (value < floor)
                    {
                        Interlocked.Increment(ref older);
                        if (examples.Count < MaxExamples)
                        {
                            examples.Enqueue($"query {Query(category, page)} returned version {value}, older than version {floor} whose tag invalidation returned before the read began");
                        }
                    }
                }
            }));
        }

        start.Set();
        await Task.WhenAll(workers);

        var stale = new List<string>();
        for (var category = 0; category < options.Categories; category++)
        {
            for (var page = 0; page < options.Pages; page++)
            {
                foreach (var cache in caches)
                {
                    var (found, cached) = await cache.TryGetAsync(Query(category, page));
                    if (found && cached != database.Current(category))
                    {
                        stale.Add($"query {Query(category, page)}: cache has version {cached}, database has {database.Current(category)}");
                    }
                }
            }
        }

        return new CheckerReport(stale, reads, older, [.. examples]);
    }

    /// <summary>An <see cref="ICache"/> as the checker uses it.</summary>
    public static ITaggedCache Of(ICache cache) => new AdHoc(cache);

    /// <summary>
    /// The naive tagged cache: on a miss it loads and then stores the value with a plain set, which stamps the entry when it
    /// is stored — so a value loaded before a tag invalidation and stored after it is served as valid (HybridCache's
    /// re-stamp after the factory). The checker must catch it.
    /// </summary>
    public static ITaggedCache Naive(ICacheProvider provider) => new NaiveTagged(provider);

    private sealed class AdHoc(ICache cache) : ITaggedCache
    {
        public ValueTask<long> GetOrLoadAsync(string key, string[] tags, Func<CancellationToken, ValueTask<long>> load) =>
            cache.GetOrLoadAsync(key, load, static (l, ct) => l(ct), new CacheEntryOptions { Tags = tags, Expiration = TimeSpan.FromMinutes(5) });

        public ValueTask InvalidateTagAsync(string tag) => cache.InvalidateTagAsync(tag);

        public ValueTask<(bool Found, long Value)> TryGetAsync(string key) => cache.TryGetAsync<long>(key);
    }

    private sealed class NaiveTagged(ICacheProvider provider) : ITaggedCache
    {
        private readonly ICacheStore<string, long> _store = provider.CreateStore(
            new CacheStoreDescriptor<string, long>("naive", "naive-tags:", new Int64Serializer()));

        public async ValueTask<long> GetOrLoadAsync(string key, string[] tags, Func<CancellationToken, ValueTask<long>> load)
        {
            var lookup = await _store.GetAsync(key, acquireLease: false, default);
            if (lookup.Status == CacheLookupStatus.Hit)
            {
                return lookup.Value.Value;
            }

            var value = await load(default);
            await _store.SetAsync(key, CacheValue<long>.Of(value), new StoreEntryOptions(TimeSpan.FromMinutes(5)) { Tags = tags }, default);
            return value;
        }

        public ValueTask InvalidateTagAsync(string tag) => provider.InvalidateTagAsync(tag, default);

        public async ValueTask<(bool Found, long Value)> TryGetAsync(string key)
        {
            var lookup = await _store.GetAsync(key, acquireLease: false, default);
            return (lookup.Status == CacheLookupStatus.Hit, lookup.Value.Value);
        }
    }

    private sealed class Int64Serializer : CachePatterns.Serialization.ICacheSerializer<long>
    {
        public void Serialize(long value, System.Buffers.IBufferWriter<byte> destination)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(destination.GetSpan(8), value);
            destination.Advance(8);
        }

        public long Deserialize(System.Buffers.ReadOnlySequence<byte> source)
        {
            Span<byte> bytes = stackalloc byte[8];
            System.Buffers.BuffersExtensions.CopyTo(source, bytes);
            return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes);
        }
    }

    /// <summary>Per-category versions: a commit is a new version, published as completed once its tag invalidation returned.</summary>
    private sealed class TagDatabase(int categories, int maxDelaySpins)
    {
        private readonly long[] _versions = new long[categories];
        private readonly long[] _completed = new long[categories];

        public long Commit(int category)
        {
            Delay();
            return Interlocked.Increment(ref _versions[category]);
        }

        public void Completed(int category, long version)
        {
            var current = Volatile.Read(ref _completed[category]);
            while (current < version)
            {
                var seen = Interlocked.CompareExchange(ref _completed[category], version, current);
                if (seen == current)
                {
                    return;
                }

                current = seen;
            }
        }

        public long Floor(int category) => Volatile.Read(ref _completed[category]);

        public long Current(int category) => Volatile.Read(ref _versions[category]);

        /// <summary>A query: reads the version in the middle of a random delay, so writes overtake loads.</summary>
        public async ValueTask<long> LoadAsync(int category)
        {
            await Task.Yield();
            Delay();
            var version = Volatile.Read(ref _versions[category]);
            Delay();
            return version;
        }

        private void Delay() => Thread.SpinWait(Random.Shared.Next(maxDelaySpins));
    }
}

/// <summary>A tagged cache as the checker uses it.</summary>
public interface ITaggedCache
{
    ValueTask<long> GetOrLoadAsync(string key, string[] tags, Func<CancellationToken, ValueTask<long>> load);

    ValueTask InvalidateTagAsync(string tag);

    ValueTask<(bool Found, long Value)> TryGetAsync(string key);
}

/// <summary>The shape of one tag checker round: a few hot categories, so invalidations keep overtaking loads.</summary>
public sealed record TagCheckerOptions(
    int Categories = 2,
    int Pages = 2,
    int Writers = 2,
    int Readers = 6,
    int OperationsPerWorker = 300,
    int MaxDelaySpins = 20_000);
