using CachePatterns.Providers;

namespace CachePatterns.Memcached.Tests.Support;

/// <summary>Wraps a provider and records the status of every lease lookup its stores answer.</summary>
internal sealed class RecordingProvider(ICacheProvider inner) : ICacheProvider
{
    private readonly List<CacheLookupStatus> _leaseLookups = [];

    public string Name => inner.Name;

    public bool IsInProcess => inner.IsInProcess;

    public ICacheProvider Inner => inner;

    public CacheLookupStatus[] LeaseLookups
    {
        get
        {
            lock (_leaseLookups)
            {
                return [.. _leaseLookups];
            }
        }
    }

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull => new Store<TKey, TValue>(inner.CreateStore(descriptor), this);

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) => inner.CheckHealthAsync(cancellationToken);

    public void Dispose() => inner.Dispose();

    private void Record(CacheLookupStatus status)
    {
        lock (_leaseLookups)
        {
            _leaseLookups.Add(status);
        }
    }

    private sealed class Store<TKey, TValue>(ICacheStore<TKey, TValue> inner, RecordingProvider owner) : ICacheStore<TKey, TValue>
        where TKey : notnull
    {
        public async ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
        {
            var lookup = await inner.GetAsync(key, acquireLease, cancellationToken);
            if (acquireLease)
            {
                owner.Record(lookup.Status);
            }

            return lookup;
        }

        public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
        {
            var lookups = await inner.GetManyAsync(keys, acquireLeases, cancellationToken);
            if (acquireLeases)
            {
                foreach (var lookup in lookups)
                {
                    owner.Record(lookup.Status);
                }
            }

            return lookups;
        }

        public ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) =>
            inner.FillAsync(key, lease, value, options, cancellationToken);

        public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken) => inner.ReleaseLeaseAsync(key, lease, cancellationToken);

        public ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) =>
            inner.SetAsync(key, value, options, cancellationToken);

        public ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) => inner.RefreshAsync(key, cancellationToken);

        public ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken) => inner.InvalidateAsync(key, cancellationToken);

        public ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken) => inner.BeginWriteAsync(key, cancellationToken);

        public ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) =>
            inner.CompleteWriteAsync(key, token, value, options, cancellationToken);

        public ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken) => inner.AbortWriteAsync(key, token, cancellationToken);

        public ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken) =>
            inner.StoreAsync(key, value, options, writeId, cancellationToken);

        public ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken) => inner.DeleteAsync(key, writeId, cancellationToken);
    }
}
