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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type> _prefixes = new(StringComparer.Ordinal);

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
        bool ownsProvider)
    {
        _ownsProvider = ownsProvider;
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
    }

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

    public CacheStrategy<TKey, TValue> CreateStrategy<TKey, TValue>(
        string strategyName,
        string keyPrefix,
        CacheStrategyOptions options,
        ICacheLoader<TKey, TValue>? loader,
        ICacheWriter<TKey, TValue>? writer,
        Func<TValue, long>? sizeOf = null,
        Func<TKey, string>? keyFormatter = null)
        where TKey : notnull
    {
        var owner = typeof(CacheStrategy<TKey, TValue>);
        var holder = _prefixes.GetOrAdd(keyPrefix, owner);
        if (holder != owner && loader is not null)
        {
            throw new InvalidOperationException(
                $"Cache '{Name}': the strategies of {Describe(holder)} and {Describe(owner)} would share the key prefix '{keyPrefix}' " +
                "and overwrite each other's entries; give one of them its own CacheStrategyOptions.KeyPrefix.");
        }

        var instruments = new StrategyInstruments(strategyName, Name, Telemetry, Logger, Time);
        var store = CreateStore(strategyName, keyPrefix, instruments, sizeOf, keyFormatter);
        return new CacheStrategy<TKey, TValue>(strategyName, store, loader, writer, options, Time, instruments);
    }

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(
        string storeName,
        string keyPrefix,
        StrategyInstruments instruments,
        Func<TValue, long>? sizeOf = null,
        Func<TKey, string>? keyFormatter = null)
        where TKey : notnull
    {
        var descriptor = new CacheStoreDescriptor<TKey, TValue>(storeName, keyPrefix, new LazyCacheSerializer<TValue>(_serializerFactories), keyFormatter)
        {
            Observer = instruments,
            SizeOf = sizeOf,
        };
        return CreateStore(descriptor, instruments);
    }

    /// <summary>Creates a store with cache semantics from a descriptor the caller built (its own serializer or bounds).</summary>
    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor, StrategyInstruments instruments)
        where TKey : notnull
    {
        var store = Provider.CreateStore(descriptor);
        return Pipeline is null
            ? store
            : new ResilientCacheStore<TKey, TValue>(store, Provider, descriptor.KeyPrefix, Pipeline, instruments, _resilienceOptions.MaxPendingInvalidations, LedgerRetryInterval);
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
        // Sessions must not share keys with a strategy: its writes would overwrite them and its ledger's sweep delete them.
        var owner = typeof(ResilientDurableStore<TKey, TValue>);
        var holder = _prefixes.GetOrAdd(descriptor.KeyPrefix, owner);
        if (holder != owner)
        {
            throw new InvalidOperationException(
                $"Cache '{Name}': the IDistributedCache and the strategy of {Describe(holder)} would share the key prefix '{descriptor.KeyPrefix}'; " +
                "give one of them its own prefix (DistributedCacheOptions.KeyPrefix or CacheStrategyOptions.KeyPrefix).");
        }

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

    private static string Describe(Type strategy) =>
        strategy.IsGenericType && strategy.GetGenericTypeDefinition() == typeof(ResilientDurableStore<,>)
            ? "the IDistributedCache"
            : $"<{string.Join(", ", strategy.GetGenericArguments().Select(t => t.FullName))}>";

    /// <summary>Disposes the provider if this instance created it (a provider from DI is disposed by the container).</summary>
    public void Dispose()
    {
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
