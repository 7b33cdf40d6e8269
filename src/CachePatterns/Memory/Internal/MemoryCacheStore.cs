using System.Buffers;
using BitFaster.Caching;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using BitFaster.Caching.Scheduler;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Memory.Internal;

/// <summary>
/// One strategy's entries in process memory: a BitFaster <see cref="ConcurrentLru{K, V}"/> bounded by entry count,
/// an optional byte budget enforced by trimming the least recently used entries, expiration checked against the
/// injected <see cref="TimeProvider"/>, and per-key fences (see docs/architecture.md) taken under striped locks.
/// </summary>
/// <remarks>
/// A hit takes no lock and allocates nothing. Every change of an entry that a fill could race with
/// (fill, set, invalidation, write) happens under the key's stripe lock, so checking a lease and storing
/// the value are one atomic step.
/// </remarks>
internal sealed partial class MemoryCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>, ISynchronousHitStore<TKey, TValue>, IDisposable
    where TKey : notnull
{
    private const int StripeCount = 64;

    /// <summary>The smallest capacity BitFaster's LRU accepts; a smaller <see cref="MemoryCacheProviderOptions.MaxEntries"/> is enforced by trimming.</summary>
    private const int MinLruCapacity = 3;

    /// <summary>Why the trim running on this thread removes entries (trim events are raised on the trimming thread).</summary>
    [ThreadStatic]
    private static CacheEvictionReason t_trimReason;

    private readonly ICache<TKey, MemoryEntry<TValue>> _entries;

    /// <summary><see cref="_entries"/> when it is the LRU: a hit calls it directly (no interface dispatch).</summary>
    private readonly Lru? _lru;

    /// <summary>Whether <see cref="_time"/> is <see cref="TimeProvider.System"/>: a hit then reads the stopwatch directly.</summary>
    private readonly bool _systemClock;
    private readonly Lock[] _stripes = new Lock[StripeCount];
    private readonly Dictionary<TKey, Fence>[] _fences = new Dictionary<TKey, Fence>[StripeCount];
    private readonly EqualityComparer<TKey> _comparer = EqualityComparer<TKey>.Default;
    private readonly CacheStoreDescriptor<TKey, TValue> _descriptor;
    private readonly MemoryCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ICacheStoreObserver? _observer;
    private readonly ITimer? _scanTimer;
    private readonly MemoryTagVersions _tags;
    private long _totalBytes;

    public MemoryCacheStore(CacheStoreDescriptor<TKey, TValue> descriptor, MemoryCacheProviderOptions options, TimeProvider time, MemoryTagVersions? tags = null)
    {
        _tags = tags ?? new MemoryTagVersions();
        _descriptor = descriptor;
        _options = options;
        _time = time;
        _observer = descriptor.Observer;

        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new Lock();
            _fences[i] = new Dictionary<TKey, Fence>(_comparer);
        }

        _entries = CreateEntries(options);
        _lru = _entries as Lru;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        var events = _entries.Events.Value!;
        events.ItemRemoved += OnItemRemoved;
        events.ItemUpdated += OnItemUpdated;

        if (options.ExpirationScanInterval > TimeSpan.Zero)
        {
            _scanTimer = time.CreateTimer(static s => ((MemoryCacheStore<TKey, TValue>)s!).RemoveExpired(), this, options.ExpirationScanInterval, options.ExpirationScanInterval);
        }
    }

    public int Count => _entries.Count;

    private static ICache<TKey, MemoryEntry<TValue>> CreateEntries(MemoryCacheProviderOptions options)
    {
        var capacity = Math.Max(MinLruCapacity, options.MaxEntries);
        return options.EvictionPolicy == MemoryEvictionPolicy.LeastFrequentlyUsed
            ? new ConcurrentLfuBuilder<TKey, MemoryEntry<TValue>>().WithCapacity(capacity).WithEvents()

                // Maintenance on the caller's thread: with the thread-pool scheduler, bursts of reads overflow the
                // read buffer before it is drained and the frequencies that protect hot keys are lost.
                .WithScheduler(new ForegroundScheduler()).Build()
            : new Lru(capacity);
    }

    /// <summary>
    /// Ordinal for string keys: the dictionary then hashes them with the runtime's non-randomized string hash (randomized
    /// only after a collision flood), as <c>MemoryCache</c> does; the default comparer hashes every lookup with Marvin.
    /// </summary>
    private static IEqualityComparer<TKey> KeyComparer =>
        typeof(TKey) == typeof(string) ? (IEqualityComparer<TKey>)(object)StringComparer.Ordinal : EqualityComparer<TKey>.Default;

    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    /// <summary>Gets how many keys have outstanding leases or writes (tests use it to prove nothing leaks).</summary>
    internal int FenceCount
    {
        get
        {
            var count = 0;
            for (var i = 0; i < StripeCount; i++)
            {
                lock (_stripes[i])
                {
                    count += _fences[i].Count;
                }
            }

            return count;
        }
    }

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken) =>
        new(Lookup(key, acquireLease));

    /// <summary>
    /// The hit branch of <see cref="Lookup"/> alone (<see cref="ISynchronousHitStore{TKey, TValue}"/>): a fresh entry whose tags are valid, its sliding window renewed.
    /// Small enough to be inlined into the strategies' hit path (no <see cref="CacheLookup{TValue}"/> is built).
    /// </summary>
    public bool TryGetHit(TKey key, out CacheValue<TValue> value)
    {
        ValidateKey(key);
        if ((_lru is { } lru ? lru.TryGet(key, out var entry) : _entries.TryGet(key, out entry)) && IsTagValid(key, entry))
        {
            var now = _systemClock ? System.Diagnostics.Stopwatch.GetTimestamp() : _time.GetTimestamp();
            if (now < entry.ExpiresAt && (entry.Payload is null || !_options.SerializeValues ? Read(entry, out value) : TryRead(key, entry, out value)))
            {
                entry.Touch(now);
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The value of an entry stored as an object (always readable).</summary>
    private static bool Read(MemoryEntry<TValue> entry, out CacheValue<TValue> value)
    {
        value = entry.Value;
        return true;
    }

    /// <summary>The lookup, synchronously (the near cache's hit path).</summary>
    /// <remarks>Its hit branch is <see cref="TryGetHit"/>'s, kept inline so a miss reads the dictionary once.</remarks>
    internal CacheLookup<TValue> Lookup(TKey key, bool acquireLease)
    {
        ValidateKey(key);
        if (_entries.TryGet(key, out var entry) && IsTagValid(key, entry))
        {
            var now = _time.GetTimestamp();
            if (now < entry.ExpiresAt)
            {
                if (TryRead(key, entry, out var value))
                {
                    entry.Touch(now);
                    return CacheLookup<TValue>.Hit(value);
                }
            }
            else if (now < entry.RetainUntil)
            {
                if (TryRead(key, entry, out var stale))
                {
                    var lease = acquireLease ? AcquireLease(key) : CacheLease.None;
                    return CacheLookup<TValue>.Stale(stale, lease, _time.GetElapsedTime(entry.ExpiresAt, now));
                }
            }
            else
            {
                RemoveIfExpired(key, entry, now);
            }
        }

        return acquireLease
            ? new CacheLookup<TValue>(CacheLookupStatus.Miss, default, AcquireLease(key))
            : CacheLookup<TValue>.Miss;
    }

    /// <summary>A tagged entry one of whose tags was invalidated after its stamp is removed and answers a miss.</summary>
    private bool IsTagValid(TKey key, MemoryEntry<TValue> entry)
    {
        if (entry.TagsValid)
        {
            return true;
        }

        if (_entries.TryRemove(new KeyValuePair<TKey, MemoryEntry<TValue>>(key, entry)))
        {
            _observer?.OnEvicted(CacheEvictionReason.Removed, 1);
        }

        return false;
    }

    public ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);

        // Refuse a bad key before any lease is granted: leases of the keys before it would never be given back.
        for (var i = 0; i < keys.Count; i++)
        {
            ValidateKey(keys[i]);
        }

        var results = new CacheLookup<TValue>[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = Lookup(keys[i], acquireLeases);
        }

        return new ValueTask<CacheLookup<TValue>[]>(results);
    }

    public ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) =>
        new(Fill(key, lease, value, options));

    /// <summary>The fill, synchronously (the near cache copies values in with it).</summary>
    internal bool Fill(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options)
    {
        if (lease.State is not Fence fence)
        {
            return false;
        }

        MemoryEntry<TValue> entry;
        try
        {
            entry = CreateEntry(key, value, options, lease.TagStamp);
        }
        catch
        {
            ReleaseLeaseCore(key, fence);
            throw;
        }

        bool stored;
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            // A tag invalidated after the lease was granted (the load began) fences the fill like a key invalidation.
            stored = fence.Version == lease.Token && fence.Writes == 0 && entry.TagsValid;
            if (stored)
            {
                Store(key, entry);
            }

            fence.Leases--;
            RemoveIfIdle(stripe, key, fence);
        }

        if (stored)
        {
            TrimToSize();
        }

        return stored;
    }

    public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
    {
        ReleaseLease(key, lease);
        return ValueTask.CompletedTask;
    }

    /// <summary>Gives a lease back, synchronously.</summary>
    internal void ReleaseLease(TKey key, CacheLease lease)
    {
        if (lease.State is Fence fence)
        {
            ReleaseLeaseCore(key, fence);
        }
    }

    public ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        var entry = CreateEntry(key, value, options, _tags.Stamp());
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            if (_fences[stripe].TryGetValue(key, out var fence))
            {
                fence.Version++;
            }

            Store(key, entry);
        }

        TrimToSize();
        return ValueTask.CompletedTask;
    }

    public ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        if (_entries.TryGet(key, out var entry) && IsTagValid(key, entry))
        {
            var now = _time.GetTimestamp();
            if (now < entry.ExpiresAt)
            {
                entry.Touch(now);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        Invalidate(key);
        return ValueTask.CompletedTask;
    }

    /// <summary>The invalidation, synchronously.</summary>
    internal void Invalidate(TKey key)
    {
        ValidateKey(key);
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            if (_fences[stripe].TryGetValue(key, out var fence))
            {
                fence.Version++;
            }

            RemoveExplicitly(key);
        }
    }

    public ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            var fence = GetOrAddFence(stripe, key);
            fence.Version++;
            fence.Writes++;
            return new ValueTask<CacheWriteToken>(new CacheWriteToken(fence.Version, fence));
        }
    }

    public ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (token.State is not Fence fence)
        {
            return CompleteUnregisteredWriteAsync(key, cancellationToken);
        }

        MemoryEntry<TValue> entry;
        try
        {
            entry = CreateEntry(key, value, options, _tags.Stamp());
        }
        catch
        {
            EndWrite(key, fence, token.Token, storeEntry: null);
            throw;
        }

        var stored = EndWrite(key, fence, token.Token, entry);
        if (stored)
        {
            TrimToSize();
        }

        return new ValueTask<bool>(stored);
    }

    public ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        if (token.State is Fence fence)
        {
            EndWrite(key, fence, token.Token, storeEntry: null);
            return ValueTask.CompletedTask;
        }

        return InvalidateAsync(key, cancellationToken);
    }

    /// <summary>
    /// Drops every entry and revokes every outstanding lease (the near cache's flush): a fill whose lease was granted
    /// before this call stores nothing, and nothing a fill stored before it remains.
    /// </summary>
    internal void InvalidateAll()
    {
        for (var i = 0; i < StripeCount; i++)
        {
            lock (_stripes[i])
            {
                foreach (var fence in _fences[i].Values)
                {
                    fence.Version++;
                }
            }
        }

        // A fill checked its lease before the bump above stored before it, so this clear removes it; one after is refused.
        _entries.Clear();
    }

    /// <summary>Gets the keys held now (a snapshot; the near cache's index cleanup).</summary>
    internal List<TKey> SnapshotKeys()
    {
        var keys = new List<TKey>(_entries.Count);
        foreach (var pair in (IEnumerable<KeyValuePair<TKey, MemoryEntry<TValue>>>)_entries)
        {
            keys.Add(pair.Key);
        }

        return keys;
    }

    public void Dispose()
    {
        _scanTimer?.Dispose();
        _entries.Clear();
    }

    /// <summary>Removes every entry whose retention has passed; runs on the scan timer.</summary>
    internal void RemoveExpired()
    {
        var now = _time.GetTimestamp();
        foreach (var pair in (IEnumerable<KeyValuePair<TKey, MemoryEntry<TValue>>>)_entries)
        {
            RemoveIfExpired(pair.Key, pair.Value, now);
        }
    }

    private async ValueTask<bool> CompleteUnregisteredWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
        return false;
    }

    private bool EndWrite(TKey key, Fence fence, long tokenVersion, MemoryEntry<TValue>? storeEntry)
    {
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            fence.Writes--;
            var stored = storeEntry is not null && fence.Writes == 0 && fence.Version == tokenVersion;
            if (stored)
            {
                Store(key, storeEntry!);
            }
            else
            {
                RemoveExplicitly(key);
            }

            fence.Version++;
            RemoveIfIdle(stripe, key, fence);
            return stored;
        }
    }

    private CacheLease AcquireLease(TKey key)
    {
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            var fence = GetOrAddFence(stripe, key);
            fence.Leases++;
            return new CacheLease(fence.Version, fence) { TagStamp = _tags.Stamp() };
        }
    }

    private void ReleaseLeaseCore(TKey key, Fence fence)
    {
        var stripe = StripeOf(key);
        lock (_stripes[stripe])
        {
            fence.Leases--;
            RemoveIfIdle(stripe, key, fence);
        }
    }

    private Fence GetOrAddFence(int stripe, TKey key)
    {
        var map = _fences[stripe];
        if (!map.TryGetValue(key, out var fence))
        {
            fence = new Fence();
            map.Add(key, fence);
        }

        return fence;
    }

    private void RemoveIfIdle(int stripe, TKey key, Fence fence)
    {
        if (fence.IsIdle)
        {
            _fences[stripe].Remove(key);
        }
    }

    private int StripeOf(TKey key) => (_comparer.GetHashCode(key) & 0x7FFFFFFF) & (StripeCount - 1);

    private void Store(TKey key, MemoryEntry<TValue> entry)
    {
        Interlocked.Add(ref _totalBytes, entry.Size);
        _entries.AddOrUpdate(key, entry);
    }

    private void RemoveExplicitly(TKey key)
    {
        if (_entries.TryRemove(key))
        {
            _observer?.OnEvicted(CacheEvictionReason.Removed, 1);
        }
    }

    private void RemoveIfExpired(TKey key, MemoryEntry<TValue> entry, long now)
    {
        if (now >= entry.RetainUntil && _entries.TryRemove(new KeyValuePair<TKey, MemoryEntry<TValue>>(key, entry)))
        {
            _observer?.OnEvicted(CacheEvictionReason.Expired, 1);
        }
    }

    private void TrimToSize()
    {
        var eviction = _entries.Policy.Eviction.Value!;
        if (_options.MaxEntries < MinLruCapacity)
        {
            t_trimReason = CacheEvictionReason.Capacity;
            while (_entries.Count > _options.MaxEntries)
            {
                eviction.Trim(1);
            }
        }

        if (_options.MaxBytes is not { } max)
        {
            return;
        }

        t_trimReason = CacheEvictionReason.Size;
        while (Interlocked.Read(ref _totalBytes) > max && _entries.Count > 0)
        {
            eviction.Trim(1);
        }
    }

    private MemoryEntry<TValue> CreateEntry(TKey key, CacheValue<TValue> value, StoreEntryOptions options, long tagStamp)
    {
        byte[]? payload = null;
        long size = 0;
        if (_options.SerializeValues && value.Exists)
        {
            var buffer = new ArrayBufferWriter<byte>();
            _descriptor.Serializer.Serialize(value.Value!, buffer);
            payload = buffer.WrittenSpan.ToArray();
            size = payload.Length;
        }
        else if (_descriptor.SizeOf is { } sizeOf && value.Exists)
        {
            size = sizeOf(value.Value!);
        }
        else if (_options.MaxBytes is not null && value.Exists)
        {
            // A size bound without a size function: measure the serialized form (on stores only, never on hits).
            var buffer = new ArrayBufferWriter<byte>();
            _descriptor.Serializer.Serialize(value.Value!, buffer);
            size = buffer.WrittenCount;
        }

        if (size > _options.MaxValueBytes)
        {
            throw new CacheValueTooLargeException(FormatKey(key), size, _options.MaxValueBytes);
        }

        var now = _time.GetTimestamp();
        var absoluteDeadline = options.AbsoluteExpiration is { } a ? Saturating.Add(now, Saturating.ToTimestampTicks(a, _time)) : long.MaxValue;
        var slidingTicks = options.SlidingExpiration is { } s ? Saturating.ToTimestampTicks(s, _time) : 0;
        var expiresAt = slidingTicks != 0 ? Math.Min(Saturating.Add(now, slidingTicks), absoluteDeadline) : absoluteDeadline;
        var retention = Saturating.ToTimestampTicks(options.StaleRetention, _time);
        return new MemoryEntry<TValue>(_options.SerializeValues ? default : value, payload, size, expiresAt, absoluteDeadline, slidingTicks, retention, _tags.Resolve(options.Tags), tagStamp);
    }

    private bool TryRead(TKey key, MemoryEntry<TValue> entry, out CacheValue<TValue> value)
    {
        if (!_options.SerializeValues || entry.Payload is null)
        {
            value = entry.Value;
            return true;
        }

        try
        {
            value = CacheValue<TValue>.Of(_descriptor.Serializer.Deserialize(new ReadOnlySequence<byte>(entry.Payload)));
            return true;
        }
        catch (Exception ex)
        {
            if (_entries.TryRemove(new KeyValuePair<TKey, MemoryEntry<TValue>>(key, entry)))
            {
                _observer?.OnEvicted(CacheEvictionReason.Corrupt, 1);
            }

            _observer?.OnCorruptEntry(FormatKey(key), ex);
            value = default;
            return false;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void ValidateKey(TKey key)
    {
        if (key is string s && s.Length > _options.MaxKeyLength)
        {
            ThrowKeyTooLong(s, _options.MaxKeyLength);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowKeyTooLong(string key, int maxKeyLength) =>
        throw new ArgumentException(
            $"The cache key '{key[..Math.Min(key.Length, 64)]}…' is {key.Length} characters long, over the in-memory provider's limit of {maxKeyLength}.",
            nameof(key));

    /// <summary>The LRU with events and without per-hit counters (<see cref="EventsOnlyTelemetry{TKey, TValue}"/>).</summary>
    private sealed class Lru(int capacity)
        : ConcurrentLruCore<TKey, MemoryEntry<TValue>, LruItem<TKey, MemoryEntry<TValue>>, LruPolicy<TKey, MemoryEntry<TValue>>, EventsOnlyTelemetry<TKey, MemoryEntry<TValue>>>(
            Environment.ProcessorCount, new FavorWarmPartition(capacity), KeyComparer, default, default);

    private string FormatKey(TKey key) => _descriptor.KeyPrefix + _descriptor.KeyFormatter(key);

    private void OnItemRemoved(object? sender, ItemRemovedEventArgs<TKey, MemoryEntry<TValue>> e)
    {
        Interlocked.Add(ref _totalBytes, -(e.Value?.Size ?? 0));
        switch (e.Reason)
        {
            case ItemRemovedReason.Evicted:
                _observer?.OnEvicted(CacheEvictionReason.Capacity, 1);
                break;
            case ItemRemovedReason.Trimmed:
                _observer?.OnEvicted(t_trimReason, 1);
                break;
        }
    }

    private void OnItemUpdated(object? sender, ItemUpdatedEventArgs<TKey, MemoryEntry<TValue>> e) =>
        Interlocked.Add(ref _totalBytes, -(e.OldValue?.Size ?? 0));
}
