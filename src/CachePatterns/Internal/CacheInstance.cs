using CachePatterns.NearCache;
using CachePatterns.NearCache.Internal;
using CachePatterns.Providers;
using CachePatterns.Resilience;
using CachePatterns.Resilience.Internal;
using CachePatterns.Serialization;
using CachePatterns.Serialization.Internal;
using CachePatterns.Strategies;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>
/// One named cache: its provider, clock, telemetry and resilience pipeline. Creates the stores of its
/// strategies, wrapping out-of-process ones in <see cref="ResilientCacheStore{TKey, TValue}"/>.
/// </summary>
internal sealed class CacheInstance : IDisposable
{
    private readonly IReadOnlyList<ICacheSerializerFactory> _serializerFactories;
    private readonly CacheResilienceOptions _resilienceOptions;
    private readonly bool _ownsProvider;
    private readonly KeyNamespaces _namespaces;

    /// <summary>The pipelines of the stores with store semantics; told when the provider's connection is restored.</summary>
    private readonly System.Collections.Concurrent.ConcurrentBag<CacheResiliencePipeline> _storePipelines = [];

    public CacheInstance(
        string name,
        ICacheProvider provider,
        TimeProvider time,
        CacheTelemetry telemetry,
        ILoggerFactory loggerFactory,
        CacheResilienceOptions resilienceOptions,
        IReadOnlyList<ICacheSerializerFactory> serializerFactories,
        bool ownsProvider,
        NearCacheOptions? nearCache = null)
    {
        _ownsProvider = ownsProvider;
        _namespaces = new KeyNamespaces(name);
        Name = name;
        Provider = provider;
        Time = time;
        Telemetry = telemetry;
        Logger = loggerFactory.CreateLogger("CachePatterns");
        _resilienceOptions = resilienceOptions;
        _serializerFactories = serializerFactories;
        Pipeline = provider.IsInProcess ? null : new CacheResiliencePipeline(name, resilienceOptions, time, Logger);
        if (Pipeline is not null)
        {
            provider.ConnectionChanged += OnConnectionChanged;
        }

        // A near cache in front of an in-process provider would only copy its entries: none.
        if (nearCache is { Enabled: true } && !provider.IsInProcess)
        {
            NearCache = new NearCacheCoordinator(name, provider, nearCache, telemetry, Logger, time);
        }

        if (Pipeline is not null)
        {
            TagLedger = new TagInvalidationLedger(name, provider, Pipeline, telemetry, Logger, resilienceOptions.MaxPendingInvalidations, LedgerRetryInterval, replayed: NearCache is { } near ? near.OnLocalTagInvalidated : null);
        }
    }

    /// <summary>
    /// Gets the tag invalidations of this cache that may not have reached the provider (an out-of-process provider only):
    /// while any is pending, no store of this cache reads the provider (docs/architecture.md, "The tag ledger").
    /// </summary>
    public TagInvalidationLedger? TagLedger { get; }

    /// <summary>Gets the near cache of this cache, or <see langword="null"/> when it has none.</summary>
    public NearCacheCoordinator? NearCache { get; }

    /// <summary>
    /// How often remembered invalidations are retried while any is pending: at most every half second (a retry while the
    /// circuit is open costs nothing), so lost invalidations reach a returning server soon even when its "restored"
    /// signal came before it could take them (a restart still loading its data).
    /// </summary>
    private TimeSpan LedgerRetryInterval =>
        _resilienceOptions.BreakDuration < TimeSpan.FromMilliseconds(500) ? _resilienceOptions.BreakDuration : TimeSpan.FromMilliseconds(500);

    public string Name { get; }

    public ICacheProvider Provider { get; }

    public TimeProvider Time { get; }

    public CacheTelemetry Telemetry { get; }

    public ILogger Logger { get; }

    public CacheResiliencePipeline? Pipeline { get; }

    /// <summary>
    /// Invalidates a tag in this named cache (every owner's entries): through the timeout and circuit breaker for a remote
    /// provider. A provider failure is not thrown: the tag is remembered in <see cref="TagLedger"/> and replayed, and until
    /// it is, this process reads nothing from the cache (as a failed key invalidation, which <c>RemoveAsync</c> does not
    /// throw either). A caller's cancellation is thrown, after the tag was remembered unless nothing had been sent.
    /// </summary>
    public async ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        CacheTags.Validate(tag);
        if (!Provider.SupportsTags)
        {
            throw new NotSupportedException($"The cache provider '{Provider.Name}' of cache '{Name}' does not support tags.");
        }

        if (Pipeline is null || TagLedger is null)
        {
            try
            {
                await Provider.InvalidateTagAsync(tag, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                NearCache?.OnLocalTagInvalidated(tag);
            }

            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var generation = TagLedger.Generation;
        try
        {
            await Pipeline.ExecuteAsync(static (s, ct) => s.Provider.InvalidateTagAsync(s.Tag, ct), (Provider, Tag: tag), cancellationToken).ConfigureAwait(false);
            TagLedger.Forget(tag, generation);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            // Failed, timed out, skipped by the open circuit, or cancelled by the caller after it was sent: it may not
            // have reached the provider. Remembered before the near cache is dropped below, so no copy is made after.
            TagLedger.Remember(tag, ex);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
        }
        finally
        {
            // After the provider's change (a copy made from now on is read after it), and whatever the outcome: this
            // process's copies of the tag's entries go (other processes hear it from the provider's channel).
            NearCache?.OnLocalTagInvalidated(tag);
        }
    }

    /// <summary>Gets the serializer factories registered for every cache, asked before System.Text.Json.</summary>
    public IReadOnlyList<ICacheSerializerFactory> SerializerFactories => _serializerFactories;

    /// <summary>The key prefix of the ad-hoc <see cref="ICache"/> of a named cache: <c>~</c> starts no strategy's prefix.</summary>
    public static string AdHocKeyPrefix(string cacheName) => $"~{cacheName}:";

    /// <summary>Claims a key prefix for one owner (see <see cref="KeyNamespaces"/>); throws when it overlaps another owner's.</summary>
    public void ClaimKeyPrefix(string keyPrefix, string owner) => _namespaces.Claim(keyPrefix, owner);

    public CacheStrategy<TKey, TValue> CreateStrategy<TKey, TValue>(
        string strategyName,
        string keyPrefix,
        CacheStrategyOptions options,
        ICacheLoader<TKey, TValue>? loader,
        ICacheWriter<TKey, TValue>? writer,
        Func<TValue, long>? sizeOf = null,
        Func<TKey, string>? keyFormatter = null,
        EntityTags<TKey, TValue>? tags = null)
        where TKey : notnull
    {
        ClaimKeyPrefix(keyPrefix, $"the strategy <{string.Join(", ", typeof(CacheStrategy<TKey, TValue>).GetGenericArguments().Select(t => t.FullName))}>");
        return Create(strategyName, keyPrefix, options, loader, writer, sizeOf, keyFormatter, tagValueType: false, tags);
    }

    /// <summary>
    /// Creates the strategy behind the ad-hoc <see cref="ICache"/> for one value type. Every value type shares the ad-hoc
    /// prefix (claimed once by the <see cref="AdHocCache"/>); each value carries its type, so a key stored as one type is
    /// never read as another.
    /// </summary>
    /// <remarks><paramref name="serializerFactories"/>, when given, are asked before the cache's own.</remarks>
    public CacheStrategy<string, TValue> CreateAdHocStrategy<TValue>(
        string strategyName,
        string keyPrefix,
        CacheStrategyOptions options,
        IReadOnlyList<ICacheSerializerFactory>? serializerFactories = null,
        bool entriesCarryTags = false) =>
        Create<string, TValue>(strategyName, keyPrefix, options, loader: null, writer: null, sizeOf: null, keyFormatter: null, tagValueType: true, tags: null, serializerFactories, entriesCarryTags);

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(
        string storeName,
        string keyPrefix,
        StrategyInstruments instruments,
        Func<TValue, long>? sizeOf = null,
        Func<TKey, string>? keyFormatter = null,
        bool tagValueType = false,
        IReadOnlyList<ICacheSerializerFactory>? serializerFactories = null,
        CacheStrategyOptions? nearCacheFor = null,
        bool entriesCarryTags = false)
        where TKey : notnull
    {
        ICacheSerializer<TValue> serializer = new LazyCacheSerializer<TValue>(
            serializerFactories is null ? _serializerFactories : [.. serializerFactories, .. _serializerFactories]);

        // In memory every value type has its own store: nothing to tell apart, and the tag would count against MaxBytes.
        if (tagValueType && !Provider.IsInProcess)
        {
            serializer = new TypeTaggedSerializer<TValue>(serializer);
        }

        var descriptor = new CacheStoreDescriptor<TKey, TValue>(storeName, keyPrefix, serializer, keyFormatter)
        {
            Observer = instruments,
            SizeOf = sizeOf,
            EntriesCarryTags = entriesCarryTags,
        };
        var store = CreateStore(descriptor, instruments);
        return NearCache is not null && nearCacheFor is { UseNearCache: true }
            ? new NearCacheStore<TKey, TValue>(store, descriptor, NearCache, nearCacheFor, instruments, Name, Time)
            : store;
    }

    /// <summary>
    /// Creates a store with cache semantics from a descriptor the caller built (its own serializer or bounds).
    /// <paramref name="entriesCarryNoTags"/>: no entry under the store's prefix ever carries a tag (<c>IDistributedCache</c>
    /// has no tags, and the prefix is its own), so a pending tag invalidation does not keep it off the provider.
    /// </summary>
    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor, StrategyInstruments instruments, bool entriesCarryNoTags = false)
        where TKey : notnull
    {
        var store = Provider.CreateStore(descriptor);
        if (Pipeline is null)
        {
            return store;
        }

        var tags = entriesCarryNoTags ? null : TagLedger;
        tags?.AddKeyPrefix(descriptor.KeyPrefix);
        return new ResilientCacheStore<TKey, TValue>(store, Provider, descriptor.KeyPrefix, Pipeline, instruments, _resilienceOptions.MaxPendingInvalidations, LedgerRetryInterval, tags);
    }

    /// <summary>
    /// Creates a store with <b>store</b> semantics (the provider holds the only copy): failures are reported, never
    /// turned into misses or deletes. An out-of-process provider gets a pipeline of its own with
    /// <paramref name="operationTimeout"/> per attempt (the cache's breaker settings), so a slow store call is waited for
    /// longer than a cache call, and the strategies' breaker is not tripped by it.
    /// </summary>
    public ResilientDurableStore<TKey, TValue> CreateDurableStore<TKey, TValue>(
        CacheStoreDescriptor<TKey, TValue> descriptor,
        StrategyInstruments instruments,
        TimeSpan operationTimeout,
        int maxAttempts,
        TimeSpan retryDelay)
        where TKey : notnull
    {
        var store = Provider.CreateStore(descriptor);
        CacheResiliencePipeline? pipeline = null;
        if (Pipeline is not null)
        {
            var options = new CacheResilienceOptions
            {
                OperationTimeout = operationTimeout,
                FailureRatio = _resilienceOptions.FailureRatio,
                MinimumThroughput = _resilienceOptions.MinimumThroughput,
                SamplingDuration = _resilienceOptions.SamplingDuration,
                BreakDuration = _resilienceOptions.BreakDuration,
                ConsecutiveTimeoutsToOpen = _resilienceOptions.ConsecutiveTimeoutsToOpen,
            };
            pipeline = new CacheResiliencePipeline($"{Name}/{descriptor.Name}", options, Time, Logger);
            _storePipelines.Add(pipeline);
        }

        return new ResilientDurableStore<TKey, TValue>(store, pipeline, instruments, Name, maxAttempts, retryDelay, Time);
    }

    private void OnConnectionChanged(object? sender, CacheConnectionChangedEventArgs change)
    {
        Pipeline?.OnConnectionChanged(change);

        // A store only hears "restored" (its open circuit probes at once): "lost" would open its circuit at the first
        // missed heartbeat, and a store waits its attempts out instead, so a stall shorter than them is answered.
        if (change.State == CacheConnectionState.Restored)
        {
            foreach (var pipeline in _storePipelines)
            {
                pipeline.OnConnectionChanged(change);
            }
        }
    }

    private CacheStrategy<TKey, TValue> Create<TKey, TValue>(
        string strategyName,
        string keyPrefix,
        CacheStrategyOptions options,
        ICacheLoader<TKey, TValue>? loader,
        ICacheWriter<TKey, TValue>? writer,
        Func<TValue, long>? sizeOf,
        Func<TKey, string>? keyFormatter,
        bool tagValueType,
        EntityTags<TKey, TValue>? tags,
        IReadOnlyList<ICacheSerializerFactory>? serializerFactories = null,
        bool entriesCarryTags = false)
        where TKey : notnull
    {
        var instruments = new StrategyInstruments(strategyName, Name, Telemetry, Logger, Time);
        var store = CreateStore(strategyName, keyPrefix, instruments, sizeOf, keyFormatter, tagValueType, serializerFactories, nearCacheFor: options, entriesCarryTags);
        return new CacheStrategy<TKey, TValue>(strategyName, store, loader, writer, options, Time, instruments)
        {
            EntityTags = tags,
            TagInvalidator = this,
        };
    }

    /// <summary>Disposes the provider if this instance created it (a provider from DI is disposed by the container).</summary>
    public void Dispose()
    {
        NearCache?.Dispose();
        TagLedger?.Dispose();
        if (Pipeline is not null)
        {
            Provider.ConnectionChanged -= OnConnectionChanged;
        }

        if (_ownsProvider)
        {
            Provider.Dispose();
        }
    }
}
