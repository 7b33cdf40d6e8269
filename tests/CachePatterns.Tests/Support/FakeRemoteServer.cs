using System.Collections.Concurrent;
using CachePatterns.Memory;
using CachePatterns.Providers;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A cache server stand-in for near-cache tests: in-memory stores shared by every <see cref="FakeRemoteProvider"/>
/// connected to it (each one is a process: its own DI container, its own near cache), out-of-process as far as the core
/// can tell, and a publish of every change after it is made, as the Redis scripts do. Each provider's invalidation channel
/// can be cut and restored, and the next remote read can be held after it has read its value (a reply still on its way).
/// </summary>
public sealed class FakeRemoteServer : IDisposable
{
    private readonly MemoryCacheProvider _inner;
    private readonly ConcurrentDictionary<(string Prefix, Type Key, Type Value), object> _stores = new();
    private readonly List<FakeRemoteProvider> _providers = [];
    private TaskCompletionSource? _readRead;
    private TaskCompletionSource? _readGate;

    public FakeRemoteServer(TimeProvider time) =>
        _inner = new MemoryCacheProvider(Microsoft.Extensions.Options.Options.Create(new MemoryCacheProviderOptions()), time);

    /// <summary>A new client ("process"); <paramref name="push"/> false for a provider without an invalidation channel (memcached).</summary>
    public FakeRemoteProvider Connect(bool push = true)
    {
        var provider = new FakeRemoteProvider(this, push);
        lock (_providers)
        {
            _providers.Add(provider);
        }

        return provider;
    }

    /// <summary>
    /// Holds the next remote read after it has read its value, until <paramref name="release"/> completes.
    /// </summary>
    /// <returns>Completes when the held read has read its value.</returns>
    public Task HoldNextRead(Task release)
    {
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = release.ContinueWith(_ => gate.TrySetResult(), TaskScheduler.Default);
        Volatile.Write(ref _readRead, read);
        Volatile.Write(ref _readGate, gate);
        return read.Task;
    }

    public void Dispose() => _inner.Dispose();

    internal ICacheStore<TKey, TValue> StoreFor<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull =>
        (ICacheStore<TKey, TValue>)_stores.GetOrAdd((descriptor.KeyPrefix, typeof(TKey), typeof(TValue)), _ => _inner.CreateStore(descriptor));

    /// <summary>Invalidates a tag on the shared stores and publishes it (kind <see cref="CacheInvalidationKind.Tag"/>).</summary>
    internal async ValueTask InvalidateTagAsync(string tag, FakeRemoteProvider origin, CancellationToken cancellationToken)
    {
        await ((ICacheProvider)_inner).InvalidateTagAsync(tag, cancellationToken);
        Publish(new CacheInvalidation(CacheInvalidationKind.Tag, tag, TimeSpan.FromMilliseconds(1)), origin);
    }

    /// <summary>The tags each stored key's entry carries (what a remote provider reads back with a hit).</summary>
    internal ConcurrentDictionary<string, IReadOnlyCollection<string>> Tags { get; } = new(StringComparer.Ordinal);

    internal void Publish(string storeKey, FakeRemoteProvider origin) =>
        Publish(new CacheInvalidation(CacheInvalidationKind.Key, storeKey, TimeSpan.FromMilliseconds(1)), origin);

    /// <summary>Delivers to every client but the one that made the change (as the Redis provider filters its own messages).</summary>
    internal void Publish(CacheInvalidation invalidation, FakeRemoteProvider origin)
    {
        FakeRemoteProvider[] providers;
        lock (_providers)
        {
            providers = [.. _providers];
        }

        foreach (var provider in providers)
        {
            if (!ReferenceEquals(provider, origin))
            {
                provider.Deliver(invalidation);
            }
        }
    }

    internal async ValueTask HoldIfAskedAsync()
    {
        var read = Interlocked.Exchange(ref _readRead, null);
        if (read is null)
        {
            return;
        }

        var gate = Volatile.Read(ref _readGate)!;
        read.TrySetResult();
        await gate.Task;
    }
}

/// <summary>One process's connection to a <see cref="FakeRemoteServer"/>.</summary>
public sealed class FakeRemoteProvider : ICacheProvider, ICacheInvalidationSource
{
    private readonly FakeRemoteServer _server;
    private readonly bool _push;
    private readonly List<ICacheInvalidationObserver> _observers = [];
    private int _reads;
    private bool _connected = true;

    internal FakeRemoteProvider(FakeRemoteServer server, bool push)
    {
        _server = server;
        _push = push;
    }

    public string Name => "fake-remote";

    public bool IsInProcess => false;

    /// <summary>Gets how many reads (single or many) reached the server.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Gets the invalidations delivered to this process.</summary>
    public int Delivered { get; private set; }

    public ICacheInvalidationSource? Invalidations => _push ? this : null;

    public bool SupportsTags => true;

    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken) => _server.InvalidateTagAsync(tag, this, cancellationToken);

    public bool IsConnected
    {
        get
        {
            lock (_observers)
            {
                return _connected;
            }
        }
    }

    public event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged;

    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull => new PublishingStore<TKey, TValue>(this, _server.StoreFor(descriptor), descriptor);

    public ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new CacheProviderHealth(true, "fake"));

    public IDisposable Subscribe(ICacheInvalidationObserver observer)
    {
        lock (_observers)
        {
            _observers.Add(observer);
            if (_connected)
            {
                observer.OnConnected();
            }
        }

        return new Unsubscriber(this, observer);
    }

    /// <summary>The channel is cut: messages published from now on are lost to this process.</summary>
    public void Disconnect(string reason = "test")
    {
        lock (_observers)
        {
            _connected = false;
            foreach (var observer in _observers)
            {
                observer.OnDisconnected(reason);
            }
        }
    }

    /// <summary>The channel is confirmed live again.</summary>
    public void Reconnect()
    {
        lock (_observers)
        {
            _connected = true;
            foreach (var observer in _observers)
            {
                observer.OnConnected();
            }
        }
    }

    /// <summary>Raises <see cref="ConnectionChanged"/>, as a provider watching its connection would.</summary>
    public void Signal(CacheConnectionState state) => ConnectionChanged?.Invoke(this, new CacheConnectionChangedEventArgs(state));

    public void Dispose()
    {
    }

    internal void Deliver(CacheInvalidation invalidation)
    {
        if (!_push)
        {
            return;
        }

        lock (_observers)
        {
            if (!_connected)
            {
                return;
            }

            Delivered++;
            foreach (var observer in _observers)
            {
                observer.OnInvalidated(invalidation);
            }
        }
    }

    private sealed class Unsubscriber(FakeRemoteProvider provider, ICacheInvalidationObserver observer) : IDisposable
    {
        public void Dispose()
        {
            lock (provider._observers)
            {
                provider._observers.Remove(observer);
            }
        }
    }

    /// <summary>The shared store, publishing the key after every change (as the Redis scripts do, in the same step).</summary>
    private sealed class PublishingStore<TKey, TValue>(FakeRemoteProvider provider, ICacheStore<TKey, TValue> inner, CacheStoreDescriptor<TKey, TValue> descriptor)
        : ICacheStore<TKey, TValue>
        where TKey : notnull
    {
        public async ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref provider._reads);
            var lookup = await inner.GetAsync(key, acquireLease, cancellationToken);
            await provider._server.HoldIfAskedAsync();
            return WithTags(key, lookup);
        }

        public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref provider._reads);
            var lookups = await inner.GetManyAsync(keys, acquireLeases, cancellationToken);
            await provider._server.HoldIfAskedAsync();
            for (var i = 0; i < lookups.Length; i++)
            {
                lookups[i] = WithTags(keys[i], lookups[i]);
            }

            return lookups;
        }

        public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            var stored = await inner.FillAsync(key, lease, value, options, cancellationToken);
            if (stored)
            {
                Remember(key, options);
                Publish(key);
            }

            return stored;
        }

        public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken) =>
            inner.ReleaseLeaseAsync(key, lease, cancellationToken);

        public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            Remember(key, options);
            await inner.SetAsync(key, value, options, cancellationToken);
            Publish(key);
        }

        public ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) => inner.RefreshAsync(key, cancellationToken);

        public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
        {
            await inner.InvalidateAsync(key, cancellationToken);
            Publish(key);
        }

        public ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken) => inner.BeginWriteAsync(key, cancellationToken);

        public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
        {
            Remember(key, options);
            var stored = await inner.CompleteWriteAsync(key, token, value, options, cancellationToken);
            Publish(key);
            return stored;
        }

        public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
        {
            await inner.AbortWriteAsync(key, token, cancellationToken);
            Publish(key);
        }

        public async ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken)
        {
            var applied = await inner.StoreAsync(key, value, options, writeId, cancellationToken);
            Publish(key);
            return applied;
        }

        public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
        {
            var applied = await inner.DeleteAsync(key, writeId, cancellationToken);
            Publish(key);
            return applied;
        }

        /// <summary>A hit says which tags its entry carries, as the Redis and memcached providers' hits do.</summary>
        private CacheLookup<TValue> WithTags(TKey key, CacheLookup<TValue> lookup) =>
            lookup.Status == CacheLookupStatus.Hit
                ? lookup with { Tags = provider._server.Tags.TryGetValue(StoreKey(key), out var tags) ? tags : [] }
                : lookup;

        private void Remember(TKey key, StoreEntryOptions options) => provider._server.Tags[StoreKey(key)] = options.Tags ?? [];

        private string StoreKey(TKey key) => descriptor.KeyPrefix + descriptor.KeyFormatter(key);

        private void Publish(TKey key) => provider._server.Publish(descriptor.KeyPrefix + descriptor.KeyFormatter(key), provider);
    }
}
