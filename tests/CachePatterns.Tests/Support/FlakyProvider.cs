using CachePatterns.Memory;
using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>How a <see cref="FlakyProvider"/> behaves right now.</summary>
public enum ProviderMode
{
    Up,
    Down,
    Hanging,

    /// <summary>Out of memory: calls that add data throw <see cref="CacheProviderFailureReason.ServerFull"/>; reads and removals work.</summary>
    Full,
}

/// <summary>
/// An out-of-process provider stand-in: real in-memory stores behind a switch that makes every call fail
/// (connection refused) or hang until cancelled (a timeout), and counts the calls that reached it. It can sweep
/// (counted; fails while the provider is not up) and raise <see cref="ConnectionChanged"/> on demand.
/// </summary>
public sealed class FlakyProvider : ICacheProvider
{
    private readonly MemoryCacheProvider _inner;
    private int _calls;
    private int _tagInvalidations;

    public FlakyProvider(TimeProvider time) =>
        _inner = new MemoryCacheProvider(Microsoft.Extensions.Options.Options.Create(new MemoryCacheProviderOptions()), time);

    public ProviderMode Mode { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public string Name => "flaky";

    public bool IsInProcess => false;

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull => new FlakyStore<TKey, TValue>(this, _inner.CreateStore(descriptor));

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new CacheProviderHealth(Mode is ProviderMode.Up or ProviderMode.Full, Mode == ProviderMode.Full ? "answers" : Mode.ToString()));

    public event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged;

    public bool SupportsTags => true;

    /// <summary>Gets or sets a value indicating whether tag invalidations fail (connection refused) while everything else works.</summary>
    public bool FailTagInvalidations { get; set; }

    private TaskCompletionSource? _tagReplyHeld;

    /// <summary>Gets how many tag invalidations reached the provider and succeeded.</summary>
    public int TagInvalidations => Volatile.Read(ref _tagInvalidations);

    public async ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        if (FailTagInvalidations)
        {
            throw new CacheProviderException(CacheProviderFailureReason.ConnectionRefused, "connection refused (simulated, tag invalidations only)");
        }

        await _inner.InvalidateTagAsync(tag, cancellationToken);
        Interlocked.Increment(ref _tagInvalidations);
        if (Interlocked.Exchange(ref _tagReplyHeld, null) is { } held)
        {
            // Applied by the server, its reply late.
            await held.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The next successful tag invalidation is applied at once but returns only when the returned source is completed.</summary>
    public TaskCompletionSource HoldNextTagInvalidationReply()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _tagReplyHeld, held);
        return held;
    }

    /// <summary>Gets or sets a value indicating whether the provider says it can sweep.</summary>
    public bool CanSweep { get; set; } = true;

    /// <summary>Gets the key prefixes swept so far.</summary>
    public List<string> Swept { get; } = [];

    public ValueTask<long> SweepAsync(string keyPrefix, CancellationToken cancellationToken)
    {
        if (Mode != ProviderMode.Up)
        {
            throw new CacheProviderException(CacheProviderFailureReason.ConnectionRefused, "connection refused (simulated)");
        }

        lock (Swept)
        {
            Swept.Add(keyPrefix);
        }

        return ValueTask.FromResult(0L);
    }

    /// <summary>Raises <see cref="ConnectionChanged"/> as a provider watching its connection would.</summary>
    public void Signal(CacheConnectionState state, CacheProviderFailureReason? reason = null) =>
        ConnectionChanged?.Invoke(this, new CacheConnectionChangedEventArgs(state, reason));

    public void Dispose() => _inner.Dispose();

    internal async ValueTask EnterAsync(CancellationToken cancellationToken, bool addsData = false)
    {
        Interlocked.Increment(ref _calls);
        switch (Mode)
        {
            case ProviderMode.Full when addsData:
                throw new CacheProviderException(CacheProviderFailureReason.ServerFull, "OOM command not allowed when used memory > 'maxmemory' (simulated)");
            case ProviderMode.Down:
                throw new CacheProviderException(CacheProviderFailureReason.ConnectionRefused, "connection refused (simulated)");
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
            await provider.EnterAsync(cancellationToken, addsData: acquireLease);
            return await inner.GetAsync(key, acquireLease, cancellationToken);
        }

        public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken, addsData: acquireLeases);
            return await inner.GetManyAsync(keys, acquireLeases, cancellationToken);
        }

        public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken, addsData: true);
            return await inner.FillAsync(key, lease, value, options, cancellationToken);
        }

        public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken);
            await inner.ReleaseLeaseAsync(key, lease, cancellationToken);
        }

        public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken, addsData: true);
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
            await provider.EnterAsync(cancellationToken, addsData: true);
            return await inner.BeginWriteAsync(key, cancellationToken);
        }

        public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            await provider.EnterAsync(cancellationToken, addsData: true);
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
