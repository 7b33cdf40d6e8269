using System.Collections.Concurrent;
using CachePatterns.Memory.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memory;

/// <summary>
/// The embedded default provider: entries live in this process, bounded per strategy by entry count
/// (least recently used first) and optionally by bytes, with fenced fills and no serialization on the hit path.
/// </summary>
public sealed class MemoryCacheProvider : ICacheProvider
{
    private readonly MemoryCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentBag<IDisposable> _stores = [];
    private readonly ConcurrentDictionary<string, Func<(int Entries, long Bytes)>> _sizes = new(StringComparer.Ordinal);
    private readonly MemoryTagVersions _tags = new();

    /// <summary>Initializes a new instance of the <see cref="MemoryCacheProvider"/> class.</summary>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    public MemoryCacheProvider(IOptions<MemoryCacheProviderOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Initializes a new instance of the <see cref="MemoryCacheProvider"/> class with default options.</summary>
    public MemoryCacheProvider()
        : this(Options.Create(new MemoryCacheProviderOptions()))
    {
    }

    /// <inheritdoc/>
    public string Name => "memory";

    /// <inheritdoc/>
    public bool IsInProcess => true;

    /// <inheritdoc/>
    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var store = new MemoryCacheStore<TKey, TValue>(descriptor, BoundsOf(descriptor), _time, _tags);
        _stores.Add(store);
        // The ad-hoc cache creates one store per value type under one name: those are told apart by type.
        Func<(int Entries, long Bytes)> size = () => (store.Count, store.TotalBytes);
        if (!_sizes.TryAdd(descriptor.Name, size))
        {
            _sizes[$"{descriptor.Name}<{typeof(TValue).Name}>"] = size;
        }
        return store;
    }

    /// <summary>The provider's options, with the bounds a store asks for itself (e.g. the <c>IDistributedCache</c> entries).</summary>
    private MemoryCacheProviderOptions BoundsOf<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull
    {
        if (descriptor.MaxEntries is null && descriptor.MaxBytes is null)
        {
            return _options;
        }

        return new MemoryCacheProviderOptions
        {
            MaxEntries = descriptor.MaxEntries ?? _options.MaxEntries,
            MaxBytes = descriptor.MaxBytes ?? _options.MaxBytes,
            EvictionPolicy = _options.EvictionPolicy,
            MaxValueBytes = _options.MaxValueBytes,
            MaxKeyLength = _options.MaxKeyLength,
            SerializeValues = _options.SerializeValues,
            ExpirationScanInterval = _options.ExpirationScanInterval,
        };
    }

    /// <inheritdoc/>
    public bool SupportsTags => true;

    /// <inheritdoc/>
    /// <remarks>
    /// In memory a tag version is one object per tag, kept for the provider's life (entries point at it, so a tagged hit
    /// reads a field per tag and never hashes): a cache with an unbounded number of distinct tags grows by one small object
    /// per tag.
    /// </remarks>
    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        CacheTags.Validate(tag);
        _tags.Invalidate(tag);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, size) in _sizes)
        {
            var (entries, bytes) = size();
            data[name + ".entries"] = entries;
            data[name + ".bytes"] = bytes;
        }

        return ValueTask.FromResult(new CacheProviderHealth(true, "In-process memory store.", data));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        while (_stores.TryTake(out var store))
        {
            store.Dispose();
        }
    }
}
