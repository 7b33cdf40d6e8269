using CachePatterns.Internal;
using Microsoft.Extensions.Caching.Hybrid;

namespace CachePatterns.Hybrid.Internal;

/// <summary>
/// Microsoft's <see cref="HybridCache"/> over a CachePatterns named cache: an ad-hoc cache with a key namespace of its
/// own, so every call gets the strategies' single-flight loads, fenced fills, cross-process leases, resilience and
/// (where configured) the near cache. See docs/hybridcache.md for the flag table and what is guaranteed.
/// </summary>
internal sealed class CachePatternsHybridCache : HybridCache
{
    /// <summary>
    /// The tag every entry this adapter writes carries, so that <c>RemoveByTagAsync("*")</c> ("everything in this
    /// HybridCache") is one tag invalidation. Reserved: callers may not pass it as an entry tag.
    /// </summary>
    internal const string AllEntriesTag = "~hybridcache";

    private const HybridCacheEntryFlags LocalRead = HybridCacheEntryFlags.DisableLocalCacheRead;
    private const HybridCacheEntryFlags LocalWrite = HybridCacheEntryFlags.DisableLocalCacheWrite;
    private const HybridCacheEntryFlags DistributedRead = HybridCacheEntryFlags.DisableDistributedCacheRead;
    private const HybridCacheEntryFlags DistributedWrite = HybridCacheEntryFlags.DisableDistributedCacheWrite;

    private readonly AdHocCache _cache;
    private readonly string _cacheName;
    private readonly bool _inProcess;
    private readonly bool _tagsEveryEntry;
    private readonly int _maximumKeyLength;
    private readonly HybridCacheEntryOptions? _defaults;
    private readonly CacheEntryOptions _defaultEntry;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly LogRateLimiter _keyLog;

    public CachePatternsHybridCache(CacheInstance instance, CacheStrategyOptions defaults, CachePatternsHybridCacheOptions options, IServiceProvider services)
    {
        _cacheName = instance.Name;
        _inProcess = instance.Provider.IsInProcess;
        _tagsEveryEntry = instance.Provider.SupportsTags;
        _maximumKeyLength = options.MaximumKeyLength;
        _defaults = options.DefaultEntryOptions;
        _logger = instance.Logger;
        _keyLog = new LogRateLimiter(instance.Time, LogRateLimiter.DefaultInterval);
        var serializers = new HybridCacheSerializers(services, instance.SerializerFactories, options.MaximumPayloadBytes);
        _cache = new AdHocCache(instance, defaults, KeyPrefix(instance.Name), "the HybridCache adapter", "hybridcache", [serializers], entriesCarryTags: true);
        _defaultEntry = ToEntryOptions(null, null);
    }

    /// <summary>The key prefix of the adapter's entries: beside the ad-hoc cache's <c>~{name}:</c>, never overlapping it.</summary>
    internal static string KeyPrefix(string cacheName) => $"~{cacheName}~hybrid:";

    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        var flags = EffectiveFlags(options);
        var load = (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0;
        if (!IsCacheable(key))
        {
            return load ? factory(state, cancellationToken) : default;
        }

        var entry = options is null && tags is null ? _defaultEntry : ToEntryOptions(options, tags);
        var read = CanRead(flags);
        var write = CanWrite(flags);
        if (read && write && load)
        {
            return _cache.GetOrLoadAsync(key, state, factory, entry, cancellationToken);
        }

        return GetOrCreateWithFlagsAsync(key, state, factory, entry, read, write, load, cancellationToken);
    }

    public override ValueTask SetAsync<T>(
        string key,
        T value,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        if (!IsCacheable(key) || !CanWrite(EffectiveFlags(options)))
        {
            return default;
        }

        return SetCoreAsync(key, value, options is null && tags is null ? _defaultEntry : ToEntryOptions(options, tags), cancellationToken);
    }

    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        IsCacheable(key, log: false) ? _cache.RemoveAsync(key, cancellationToken) : default;

    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return default; // as Microsoft's: no entry can carry such a tag
        }

        return _cache.InvalidateTagAsync(tag == "*" ? AllEntriesTag : tag, cancellationToken);
    }

    private async ValueTask<T> GetOrCreateWithFlagsAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        CacheEntryOptions entry,
        bool read,
        bool write,
        bool load,
        CancellationToken cancellationToken)
    {
        if (read)
        {
            var (found, cached) = await _cache.TryGetAsync<T>(key, cancellationToken).ConfigureAwait(false);
            if (found)
            {
                return cached!;
            }
        }

        if (!load)
        {
            return default!;
        }

        var value = await factory(state, cancellationToken).ConfigureAwait(false);
        if (write)
        {
            await SetCoreAsync(key, value, entry, cancellationToken).ConfigureAwait(false);
        }

        return value;
    }

    private async ValueTask SetCoreAsync<T>(string key, T value, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        try
        {
            await _cache.SetAsync(key, value, entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CacheValueTooLargeException or CacheSerializationException)
        {
            Log.SetNotStored(_logger, _cacheName, ex.Message);
            await _cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    private HybridCacheEntryFlags EffectiveFlags(HybridCacheEntryOptions? options) =>
        options?.Flags ?? _defaults?.Flags ?? HybridCacheEntryFlags.None;

    /// <summary>
    /// Whether the call reads the cache. The in-memory provider is the local tier (the distributed flags have no tier to
    /// disable); an out-of-process provider is the distributed tier.
    /// </summary>
    private bool CanRead(HybridCacheEntryFlags flags) => (flags & (_inProcess ? LocalRead : DistributedRead)) == 0;

    private bool CanWrite(HybridCacheEntryFlags flags) => (flags & (_inProcess ? LocalWrite : DistributedWrite)) == 0;

    private CacheEntryOptions ToEntryOptions(HybridCacheEntryOptions? options, IEnumerable<string>? tags) => new()
    {
        Expiration = Expiration(options) ?? Expiration(_defaults),
        Tags = Tags(tags),
    };

    /// <summary>
    /// The entry's lifetime: its <see cref="HybridCacheEntryOptions.Expiration"/>; in memory its local expiration, never
    /// longer than the overall one (as Microsoft's L1).
    /// </summary>
    private TimeSpan? Expiration(HybridCacheEntryOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        if (_inProcess && options.LocalCacheExpiration is { } local)
        {
            return options.Expiration is { } overall && overall < local ? overall : local;
        }

        return options.Expiration;
    }

    /// <summary>The caller's tags (validated as Microsoft's: none empty, <c>"*"</c> reserved) plus <see cref="AllEntriesTag"/>.</summary>
    /// <remarks>A provider without tags gets no implicit tag (a tagged entry is never stored there); "*" then throws.</remarks>
    private string[]? Tags(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return _tagsEveryEntry ? [AllEntriesTag] : null;
        }

        var list = _tagsEveryEntry ? new List<string> { AllEntriesTag } : [];
        foreach (var tag in tags)
        {
            CacheTags.Validate(tag, nameof(tags));
            if (tag == AllEntriesTag)
            {
                throw new ArgumentException($"The tag '{AllEntriesTag}' is reserved by the HybridCache adapter (it marks every entry for RemoveByTagAsync(\"*\")); use another tag.", nameof(tags));
            }

            list.Add(tag);
        }

        return [.. list];
    }

    /// <summary>Whether a key may be cached (Microsoft's rules: not blank, not too long, no control characters); logs why not.</summary>
    private bool IsCacheable(string key, bool log = true)
    {
        string? reason = null;
        if (string.IsNullOrWhiteSpace(key))
        {
            reason = "empty or whitespace";
        }
        else if (key.Length > _maximumKeyLength)
        {
            reason = $"{key.Length} characters, above MaximumKeyLength = {_maximumKeyLength}";
        }
        else if (key.AsSpan().IndexOfAnyInRange('\0', '\u001F') >= 0)
        {
            reason = "it contains a control character";
        }

        if (reason is null)
        {
            return true;
        }

        if (log && _keyLog.TryAcquire(out var suppressed))
        {
            Log.KeyNotCached(_logger, _cacheName, reason, suppressed, _keyLog.Interval);
        }

        return false;
    }
}
