using CachePatterns.Memory;
using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>How a <see cref="FlakyProvider"/> behaves right now.</summary>
public enum ProviderMode
{
    Up,
    Down,
    Hanging,
}

/// <summary>
/// An out-of-process provider stand-in: real in-memory stores behind a switch that makes every call fail
/// (connection refused) or hang until cancelled (a timeout), and counts the calls that reached it.
/// </summary>
public sealed class FlakyProvider : ICacheProvider
{
    private readonly MemoryCacheProvider _inner;
    private int _calls;

    public FlakyProvider(TimeProvider time) =>
        _inner = new MemoryCacheProvider(Microsoft.Extensions.Options.Options.Create(new MemoryCacheProviderOptions()), time);

    public ProviderMode Mode { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public string Name => "flaky";

    public bool IsInProcess => false;

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull => new FlakyStore<TKey, TValue>(this, _inner.CreateStore(descriptor));

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new CacheProviderHealth(Mode == ProviderMode.Up, Mode.ToString()));

    public void Dispose() => _inner.Dispose();

    internal async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        switch (Mode)
        {
            case ProviderMode.Down:
                throw new IOException("connection refused (simulated)");
            case ProviderMode.Hanging:
                await Task.Delay(Timeout.Infinite, cancellationToken);
                break;
        }
    }

    private sealed class FlakyStore<TKey, TValue>(FlakyProvider provider, ICacheStore<TKey, TValue> inner) : ICacheStore<TKey, TValue>
        where TKey : notnull
    {
        public async ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.GetAsync(key, acquireLease, cancellationToken);
        }

        public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.GetManyAsync(keys, acquireLeases, cancellationToken);
        }

        public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.FillAsync(key, lease, value, options, cancellationToken);
        }

        public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.ReleaseLeaseAsync(key, lease, cancellationToken);
        }

        public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.SetAsync(key, value, options, cancellationToken);
        }

        public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.RefreshAsync(key, cancellationToken);
        }

        public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.InvalidateAsync(key, cancellationToken);
        }

        public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.BeginWriteAsync(key, cancellationToken);
        }

        public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.CompleteWriteAsync(key, token, value, options, cancellationToken);
        }

        public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.AbortWriteAsync(key, token, cancellationToken);
        }

        public async ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.StoreAsync(key, value, options, writeId, cancellationToken);
        }

        public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            return await inner.DeleteAsync(key, writeId, cancellationToken);
        }
    }
}
