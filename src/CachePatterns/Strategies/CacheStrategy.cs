using System.Collections.Concurrent;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

/// <summary>
/// The one implementation of <see cref="ICacheStrategy{TKey, TValue}"/>: cache-aside or write-through over a
/// provider's store, with single-flight loads and fenced fills. Split by concern: reads (<c>.Read.cs</c>),
/// single-flight (<c>.Stampede.cs</c>), writes (<c>.Write.cs</c>).
/// </summary>
internal sealed partial class CacheStrategy<TKey, TValue> : ICacheStrategy<TKey, TValue>
    where TKey : notnull
{
    private static readonly Func<TKey, ICacheLoader<TKey, TValue>, CancellationToken, ValueTask<LoadResult<TValue>>> s_registeredLoad =
        static (key, loader, ct) => loader.LoadAsync(key, ct);

    private readonly ICacheStore<TKey, TValue> _store;
    private readonly ISynchronousHitStore<TKey, TValue>? _hits;

    /// <summary>The in-memory provider's store when it is <see cref="_store"/>: its hits are called directly (sealed, inlinable).</summary>
    private readonly Memory.Internal.MemoryCacheStore<TKey, TValue>? _memoryHits;
    private readonly ICacheLoader<TKey, TValue>? _loader;
    private readonly ICacheWriter<TKey, TValue>? _writer;
    private readonly CacheStrategyOptions _options;
    private readonly TimeProvider _time;
    private readonly StrategyInstruments _instruments;
    private readonly ConcurrentDictionary<TKey, Flight> _flights = new();
    private readonly TimeSpan _staleRetention;

    public CacheStrategy(
        string name,
        ICacheStore<TKey, TValue> store,
        ICacheLoader<TKey, TValue>? loader,
        ICacheWriter<TKey, TValue>? writer,
        CacheStrategyOptions options,
        TimeProvider time,
        StrategyInstruments instruments)
    {
        Name = name;
        _store = store;
        _memoryHits = store as Memory.Internal.MemoryCacheStore<TKey, TValue>;
        _hits = _memoryHits is null ? store as ISynchronousHitStore<TKey, TValue> : null;
        _loader = loader;
        _writer = writer;
        _options = options;
        _time = time;
        _instruments = instruments;
        var failSafe = options.FailSafeMaxStaleness ?? TimeSpan.Zero;
        var revalidate = options.StaleWhileRevalidate ?? TimeSpan.Zero;
        _staleRetention = failSafe > revalidate ? failSafe : revalidate;
    }

    public string Name { get; }

    /// <summary>Gets the tags a write of the entity invalidates (<see cref="CachePatternsBuilder.DeriveTags{TKey, TValue}"/>); null for none.</summary>
    internal EntityTags<TKey, TValue>? EntityTags { get; init; }

    /// <summary>Gets the named cache that invalidates the derived tags.</summary>
    internal CacheInstance? TagInvalidator { get; init; }

    public CacheStrategyKind Kind => _options.Kind;

    /// <summary>Gets the number of loads in flight (tests use it to prove nothing leaks).</summary>
    internal int FlightCount => _flights.Count;

    /// <summary>Resolves the expiration of an entry: per-entry options win, then the strategy's defaults; jitter spreads the absolute part.</summary>
    internal StoreEntryOptions ResolveEntryOptions(CacheEntryOptions? perEntry, bool found)
    {
        TimeSpan? absolute;
        TimeSpan? sliding;
        if (perEntry is { Expiration: not null } or { SlidingExpiration: not null })
        {
            absolute = perEntry.Expiration;
            sliding = perEntry.SlidingExpiration;
        }
        else if (found)
        {
            absolute = _options.Expiration;
            sliding = _options.SlidingExpiration;
        }
        else
        {
            absolute = _options.NegativeCacheExpiration;
            sliding = null;
        }

        if (absolute is { } a && _options.Jitter > 0)
        {
            var factor = 1 + (((Random.Shared.NextDouble() * 2) - 1) * _options.Jitter);
            absolute = TimeSpan.FromTicks(Math.Max(1, (long)(a.Ticks * factor)));
        }

        return new StoreEntryOptions(absolute, sliding, found ? _staleRetention : TimeSpan.Zero) { Tags = perEntry?.Tags is { Count: > 0 } tags ? tags : null };
    }

    /// <summary>Whether a stale lookup may be served at once while the key is refreshed in the background.</summary>
    private bool CanRevalidate(in CacheLookup<TValue> lookup) =>
        lookup.Status is CacheLookupStatus.Stale or CacheLookupStatus.StaleLeaseHeldElsewhere
        && lookup.ExpiredFor is { } expiredFor
        && expiredFor <= _options.StaleWhileRevalidate;

    // A "not found" is cached only with an expiration: its own, or the strategy's negative one. Options that set
    // neither mean "use the defaults", which for a miss without negative caching is "do not cache" (never "forever").
    private bool ShouldCache(in LoadResult<TValue> result) =>
        result.Cacheable
        && (result.Found || result.Options is { Expiration: not null } or { SlidingExpiration: not null } || _options.NegativeCacheExpiration is not null)
        && CanStoreTags(result.Options);

    /// <summary>A tagged entry is stored only by a provider that keeps tags: one that does not could never invalidate it by tag.</summary>
    private bool CanStoreTags(CacheEntryOptions? options) =>
        options?.Tags is not { Count: > 0 } || TagInvalidator is not { } cache || cache.Provider.SupportsTags;

    private static CacheValue<TValue> ToCacheValue(in LoadResult<TValue> result) =>
        result.Found ? CacheValue<TValue>.Of(result.Value!) : CacheValue<TValue>.NotFound;

    private InvalidOperationException NoLoader() =>
        new($"Cache strategy '{Name}' has no loader: register an ICacheLoader<{typeof(TKey).Name}, {typeof(TValue).Name}> or call GetOrLoadAsync with a factory.");

    private InvalidOperationException NoWriter() =>
        new($"Cache strategy '{Name}' has no writer: register an ICacheWriter<{typeof(TKey).Name}, {typeof(TValue).Name}> to write through the cache.");
}
