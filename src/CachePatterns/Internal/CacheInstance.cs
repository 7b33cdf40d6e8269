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
        _namespaces = new KeyNamespaces(name);
        Name = name;
        Provider = provider;
        Time = time;
        Telemetry = telemetry;
        Logger = loggerFactory.CreateLogger("CachePatterns");
        _resilienceOptions = resilienceOptions;
        _serializerFactories = serializerFactories;
        Pipeline = provider.IsInProcess ? null : new CacheResiliencePipeline(name, resilienceOptions, time, Logger);
    }

    public string Name { get; }

    public ICacheProvider Provider { get; }

    public TimeProvider Time { get; }

    public CacheTelemetry Telemetry { get; }

    public ILogger Logger { get; }

    public CacheResiliencePipeline? Pipeline { get; }

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
        Func<TKey, string>? keyFormatter = null)
        where TKey : notnull
    {
        ClaimKeyPrefix(keyPrefix, $"the strategy <{string.Join(", ", typeof(CacheStrategy<TKey, TValue>).GetGenericArguments().Select(t => t.FullName))}>");
        return Create(strategyName, keyPrefix, options, loader, writer, sizeOf, keyFormatter, tagValueType: false);
    }

    /// <summary>
    /// Creates the strategy behind the ad-hoc <see cref="ICache"/> for one value type. Every value type shares the ad-hoc
    /// prefix (claimed once by the <see cref="AdHocCache"/>); each value carries its type, so a key stored as one type is
    /// never read as another.
    /// </summary>
    public CacheStrategy<string, TValue> CreateAdHocStrategy<TValue>(string keyPrefix, CacheStrategyOptions options) =>
        Create<string, TValue>(Name, keyPrefix, options, loader: null, writer: null, sizeOf: null, keyFormatter: null, tagValueType: true);

    private CacheStrategy<TKey, TValue> Create<TKey, TValue>(
        string strategyName,
        string keyPrefix,
        CacheStrategyOptions options,
        ICacheLoader<TKey, TValue>? loader,
        ICacheWriter<TKey, TValue>? writer,
        Func<TValue, long>? sizeOf,
        Func<TKey, string>? keyFormatter,
        bool tagValueType)
        where TKey : notnull
    {
        var instruments = new StrategyInstruments(strategyName, Name, Telemetry, Logger);
        var store = CreateStore(strategyName, keyPrefix, instruments, sizeOf, keyFormatter, tagValueType);
        return new CacheStrategy<TKey, TValue>(strategyName, store, loader, writer, options, Time, instruments);
    }

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(
        string storeName,
        string keyPrefix,
        StrategyInstruments instruments,
        Func<TValue, long>? sizeOf = null,
        Func<TKey, string>? keyFormatter = null,
        bool tagValueType = false)
        where TKey : notnull
    {
        ICacheSerializer<TValue> serializer = new LazyCacheSerializer<TValue>(_serializerFactories);
        // In memory every value type has its own store: nothing to tell apart, and the tag would count against MaxBytes.
        if (tagValueType && !Provider.IsInProcess)
        {
            serializer = new TypeTaggedSerializer<TValue>(serializer);
        }

        var descriptor = new CacheStoreDescriptor<TKey, TValue>(storeName, keyPrefix, serializer, keyFormatter)
        {
            Observer = instruments,
            SizeOf = sizeOf,
        };
        var store = Provider.CreateStore(descriptor);
        return Pipeline is null ? store : new ResilientCacheStore<TKey, TValue>(store, Pipeline, instruments, _resilienceOptions.MaxPendingInvalidations, Time, _resilienceOptions.BreakDuration);
    }

    /// <summary>Disposes the provider if this instance created it (a provider from DI is disposed by the container).</summary>
    public void Dispose()
    {
        if (_ownsProvider)
        {
            Provider.Dispose();
        }
    }
}
