using CachePatterns.Providers;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>Counts every call that reaches the wrapped provider's stores (behind the core's circuit breaker).</summary>
public sealed class CountingProvider(ICacheProvider inner) : ICacheProvider
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ICacheProvider Inner => inner;

    public string Name => inner.Name;

    public bool IsInProcess => inner.IsInProcess;

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull => new Store<TKey, TValue>(inner.CreateStore(descriptor), this);

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) => inner.CheckHealthAsync(cancellationToken);

    public event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged
    {
        add => inner.ConnectionChanged += value;
        remove => inner.ConnectionChanged -= value;
    }

    public bool CanSweep => inner.CanSweep;

    public ValueTask<long> SweepAsync(string keyPrefix, CancellationToken cancellationToken) => inner.SweepAsync(keyPrefix, cancellationToken);

    public void Dispose() => inner.Dispose();

    private void Tick() => Interlocked.Increment(ref _calls);

    private sealed class Store<TKey, TValue>(ICacheStore<TKey, TValue> s, CountingProvider p) : ICacheStore<TKey, TValue>
        where TKey : notnull
    {
        public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken) { p.Tick(); return s.GetAsync(key, acquireLease, cancellationToken); }

        public ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken) { p.Tick(); return s.GetManyAsync(keys, acquireLeases, cancellationToken); }

        public ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) { p.Tick(); return s.FillAsync(key, lease, value, options, cancellationToken); }

        public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken) { p.Tick(); return s.ReleaseLeaseAsync(key, lease, cancellationToken); }

        public ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) { p.Tick(); return s.SetAsync(key, value, options, cancellationToken); }

        public ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) { p.Tick(); return s.RefreshAsync(key, cancellationToken); }

        public ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken) { p.Tick(); return s.InvalidateAsync(key, cancellationToken); }

        public ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken) { p.Tick(); return s.BeginWriteAsync(key, cancellationToken); }

        public ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) { p.Tick(); return s.CompleteWriteAsync(key, token, value, options, cancellationToken); }

        public ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken) { p.Tick(); return s.AbortWriteAsync(key, token, cancellationToken); }

        public ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken) { p.Tick(); return s.StoreAsync(key, value, options, writeId, cancellationToken); }

        public ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken) { p.Tick(); return s.DeleteAsync(key, writeId, cancellationToken); }
    }
}
