using System.Collections.Concurrent;
using CachePatterns.Memory;
using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>
/// One in-memory provider shared by several DI containers: a store is created once per key prefix and handed to every
/// container, so two containers behave like two application processes over one cache server (each with its own flights).
/// </summary>
public sealed class SharedStoreProvider : ICacheProvider
{
    private readonly MemoryCacheProvider _inner = new();
    private readonly ConcurrentDictionary<(string Prefix, Type Key, Type Value), object> _stores = new();

    public string Name => "shared-memory";

    public bool IsInProcess => true;

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull =>
        (ICacheStore<TKey, TValue>)_stores.GetOrAdd((descriptor.KeyPrefix, typeof(TKey), typeof(TValue)), _ => _inner.CreateStore(descriptor));

    public bool SupportsTags => true;

    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken) => _inner.InvalidateTagAsync(tag, cancellationToken);

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) => _inner.CheckHealthAsync(cancellationToken);

    /// <summary>Containers dispose their provider; the shared one lives until <see cref="DisposeShared"/>.</summary>
    public void Dispose()
    {
    }

    public void DisposeShared() => _inner.Dispose();
}
