using CachePatterns.Internal;
using CachePatterns.Memory;
using CachePatterns.Memory.Internal;
using CachePatterns.Providers;

namespace CachePatterns.NearCache.Internal;

/// <summary>
/// A strategy's near cache (L1): a bounded <see cref="MemoryCacheStore{TKey, TValue}"/> keyed by <typeparamref name="TKey"/>
/// in front of the strategy's remote store (the <c>ResilientCacheStore</c> of an out-of-process provider). Reads: a copy →
/// returned (no I/O, no allocation); otherwise the remote read as before, and a fresh remote hit or a stored fill is copied
/// in, fenced by a near-cache lease taken before the remote read started. Writes and invalidations by this process drop the
/// copy before and after the remote call; invalidations from other processes (<see cref="Invalidate"/>) revoke the lease of
/// a copy in flight, so a value read before an invalidation arrived is never copied in.
/// </summary>
/// <remarks>
/// Only fresh values are copied: stale and fail-safe values, leases held elsewhere and unavailable answers go to the
/// strategy as they came. A copy lives at most the coordinator's lifetime bound, the entry's expiration, and half a sliding
/// window (a near-cache hit does not renew the remote sliding expiration; see docs/architecture.md, "Near cache").
/// </remarks>
internal sealed partial class NearCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>, ISynchronousHitStore<TKey, TValue>, INearCacheTarget, IDisposable
    where TKey : notnull
{
    private static readonly HashSet<TKey> NoKeys = [];

    /// <summary>The tags of a copy whose provider did not say which it carries: every tag invalidation drops it.</summary>
    private static readonly string[] UnknownTags = [CacheTags.Wildcard];

    private readonly ICacheStore<TKey, TValue> _remote;
    private readonly MemoryCacheStore<TKey, TValue> _local;
    private readonly NearKeyIndex<TKey> _index = new();

    /// <summary>The copies' tag versions, on this near cache's own clock: a tag invalidation raises one version (O(1)).</summary>
    private readonly MemoryTagVersions _tagVersions = new();
    private readonly Lock _tagLock = new();
    private readonly int _maxTags;
    private readonly NearCacheCoordinator _coordinator;
    private readonly StrategyInstruments _instruments;
    private readonly Func<TKey, string> _keyFormatter;
    private readonly TimeSpan _hitLifetime;
    private readonly int _indexCleanupAt;
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly KeyValuePair<string, object?> _cacheTag;

    public NearCacheStore(
        ICacheStore<TKey, TValue> remote,
        CacheStoreDescriptor<TKey, TValue> descriptor,
        NearCacheCoordinator coordinator,
        CacheStrategyOptions strategyOptions,
        StrategyInstruments instruments,
        string cacheName,
        TimeProvider time)
    {
        _remote = remote;
        _coordinator = coordinator;
        _instruments = instruments;
        _keyFormatter = descriptor.KeyFormatter;
        KeyPrefix = descriptor.KeyPrefix;
        Name = descriptor.Name;
        var options = coordinator.Options;
        var localDescriptor = new CacheStoreDescriptor<TKey, TValue>(descriptor.Name, descriptor.KeyPrefix, descriptor.Serializer, descriptor.KeyFormatter)
        {
            SizeOf = descriptor.SizeOf,
        };
        _local = new MemoryCacheStore<TKey, TValue>(
            localDescriptor,
            new MemoryCacheProviderOptions
            {
                MaxEntries = options.MaxEntries,
                MaxBytes = options.MaxBytes,
                MaxKeyLength = int.MaxValue,
                MaxValueBytes = long.MaxValue,
            },
            time,
            _tagVersions);
        _maxTags = options.MaxEntries + 1024;

        // For a remote hit that does not say when the entry expires (CacheLookup.FreshFor): the strategy's defaults.
        _hitLifetime = Bound(coordinator.MaxLifetime, strategyOptions.Expiration, strategyOptions.SlidingExpiration);
        _indexCleanupAt = (2 * options.MaxEntries) + 1024;
        _nameTag = new KeyValuePair<string, object?>(Diagnostics.CacheDiagnostics.CacheNameTag, descriptor.Name);
        _cacheTag = new KeyValuePair<string, object?>(Diagnostics.CacheDiagnostics.CacheTag, cacheName);
        coordinator.Register(this);
    }

    public string Name { get; }

    public string KeyPrefix { get; }

    /// <summary>Gets how many copies are held (tests).</summary>
    internal int Count => _local.Count;

    /// <summary>Gets the near-cache leases outstanding (tests prove none leak).</summary>
    internal int FenceCount => _local.FenceCount;

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        if (_coordinator.Serving)
        {
            if (TryGetLocalHit(key, out var value))
            {
                return new ValueTask<CacheLookup<TValue>>(CacheLookup<TValue>.Hit(value));
            }

            return GetRemoteAsync(key, acquireLease, cancellationToken);
        }

        return _remote.GetAsync(key, acquireLease, cancellationToken);
    }

    /// <summary>A copy served while the invalidation channel is live (the strategies' synchronous hit path).</summary>
    public bool TryGetHit(TKey key, out CacheValue<TValue> value)
    {
        if (_coordinator.Serving)
        {
            return TryGetLocalHit(key, out value);
        }

        value = default;
        return false;
    }

    /// <summary>The one place a read is served from the copy: <see cref="GetAsync"/> and <see cref="TryGetHit"/> both come here.</summary>
    private bool TryGetLocalHit(TKey key, out CacheValue<TValue> value)
    {
        if (_local.TryGetHit(key, out value))
        {
            NearHit();
            return true;
        }

        return false;
    }

    private async ValueTask<CacheLookup<TValue>> GetRemoteAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        var (entry, nearLease, hit) = BeginCopy(key);
        if (hit is { } local)
        {
            return local;
        }

        CacheLookup<TValue> remote;
        try
        {
            remote = await _remote.GetAsync(key, acquireLease, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            EndCopy(key, entry, nearLease);
            throw;
        }

        return CopyIn(key, entry, nearLease, remote);
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (!_coordinator.Serving)
        {
            return await _remote.GetManyAsync(keys, acquireLeases, cancellationToken).ConfigureAwait(false);
        }

        var results = new CacheLookup<TValue>[keys.Count];
        var missing = new List<(int Index, NearKeyIndex<TKey>.Entry Entry, CacheLease Lease)>();
        try
        {
            for (var i = 0; i < keys.Count; i++)
            {
                var (entry, nearLease, hit) = BeginCopy(keys[i]);
                if (hit is { } local)
                {
                    results[i] = local;
                }
                else
                {
                    missing.Add((i, entry, nearLease));
                }
            }

            if (missing.Count == 0)
            {
                return results;
            }

            var remoteKeys = new TKey[missing.Count];
            for (var m = 0; m < missing.Count; m++)
            {
                remoteKeys[m] = keys[missing[m].Index];
            }

            var remote = await _remote.GetManyAsync(remoteKeys, acquireLeases, cancellationToken).ConfigureAwait(false);
            for (var m = 0; m < missing.Count; m++)
            {
                var (index, entry, nearLease) = missing[m];
                results[index] = CopyIn(keys[index], entry, nearLease, remote[m]);
            }

            missing.Clear();
            return results;
        }
        finally
        {
            // Only after a failure: every copy begun and not handed on ends here.
            foreach (var (index, entry, nearLease) in missing)
            {
                EndCopy(keys[index], entry, nearLease);
            }
        }
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (lease.State is not NearLease near)
        {
            return await _remote.FillAsync(key, lease, value, options, cancellationToken).ConfigureAwait(false);
        }

        var stored = false;
        try
        {
            stored = await _remote.FillAsync(key, near.Remote, value, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (stored)
            {
                CopyLocally(key, near.Local, value, Bound(_hitLifetime, options.AbsoluteExpiration, options.SlidingExpiration), options.Tags);
            }
            else
            {
                _local.ReleaseLease(key, near.Local);
            }

            NearKeyIndex<TKey>.Release(near.Entry);
        }

        return stored;
    }

    public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (lease.State is not NearLease near)
        {
            await _remote.ReleaseLeaseAsync(key, lease, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await _remote.ReleaseLeaseAsync(key, near.Remote, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EndCopy(key, near.Entry, near.Local);
        }
    }

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            await _remote.SetAsync(key, value, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) => _remote.RefreshAsync(key, cancellationToken);

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            await _remote.InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            return await _remote.BeginWriteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            return await _remote.CompleteWriteAsync(key, token, value, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            await _remote.AbortWriteAsync(key, token, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public async ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            return await _remote.StoreAsync(key, value, options, writeId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        DropChanged(key);
        try
        {
            return await _remote.DeleteAsync(key, writeId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DropChanged(key);
        }
    }

    public void ValidateKey(TKey key) => _remote.ValidateKey(key);

    public bool Invalidate(string storeKey)
    {
        if (!_index.TryGet(storeKey, out var key))
        {
            // By the index's invariant nothing of the key is held or in flight: a read that starts now reads after the change.
            return false;
        }

        Drop(key);
        return true;
    }

    public bool InvalidateTag(string tag)
    {
        lock (_tagLock)
        {
            if (_tagVersions.Count < _maxTags)
            {
                // Copies carrying the tag are misses from now on, and a copy whose near-cache lease was taken before (its
                // remote read began before this) is refused if its entry carries the tag. Copies whose tags the provider
                // did not tell carry the wildcard: every tag invalidation reaches them.
                _tagVersions.Invalidate(tag);
                _tagVersions.Invalidate(CacheTags.Wildcard);
                return true;
            }
        }

        // Versions of too many tags: forget them all, with every copy (fail closed).
        Flush();
        return false;
    }

    public void Flush()
    {
        // In this order: a fill that resolved a forgotten version holds a lease taken before the revocation below.
        lock (_tagLock)
        {
            _tagVersions.Clear();
        }

        _local.InvalidateAll();

        // Leases still outstanding keep their index entries (their fills are refused by the version bump above).
        _index.RemoveIdle(NoKeys, Drop);
    }

    public void Dispose()
    {
        _coordinator.Unregister(this);
        _local.Dispose();
    }

    /// <summary>The shortest of a bound and an entry's own lifetime; half the sliding window for a sliding entry.</summary>
    private static TimeSpan Bound(TimeSpan bound, TimeSpan? absolute, TimeSpan? sliding)
    {
        if (absolute is { } a && a < bound)
        {
            bound = a;
        }

        if (sliding is { } s && s / 2 < bound)
        {
            bound = s / 2;
        }

        return bound;
    }

    private void NearHit()
    {
        var nearHits = _instruments.Telemetry.NearHits;
        if (nearHits.Enabled)
        {
            nearHits.Add(1, _nameTag, _cacheTag);
        }
    }

    /// <summary>
    /// Registers the key in the index, then takes a near-cache lease (in this order: an invalidation that arrives after the
    /// registration revokes the lease; one that arrived before it came before the remote read starts). A copy made meanwhile
    /// by another reader is returned as the hit instead.
    /// </summary>
    private (NearKeyIndex<TKey>.Entry Entry, CacheLease Lease, CacheLookup<TValue>? Hit) BeginCopy(TKey key)
    {
        if (_index.Count > _indexCleanupAt)
        {
            _index.RemoveIdle([.. _local.SnapshotKeys()], Drop);
        }

        var entry = _index.Acquire(StoreKey(key), key);
        CacheLookup<TValue> local;
        try
        {
            local = _local.Lookup(key, acquireLease: true);
        }
        catch
        {
            NearKeyIndex<TKey>.Release(entry);
            throw;
        }

        if (local.Status == CacheLookupStatus.Hit)
        {
            NearKeyIndex<TKey>.Release(entry);
            NearHit();
            return (entry, CacheLease.None, local);
        }

        return (entry, local.Lease, null);
    }

    /// <summary>Copies a fresh remote hit in, or hands the remote lease on wrapped with the near-cache one; ends the copy otherwise.</summary>
    private CacheLookup<TValue> CopyIn(TKey key, NearKeyIndex<TKey>.Entry entry, CacheLease nearLease, CacheLookup<TValue> remote)
    {
        if (remote.Status == CacheLookupStatus.Hit)
        {
            // The entry's remaining life on the provider bounds the copy (the provider's expiry publishes nothing); a
            // provider that does not tell leaves the strategy's defaults.
            var lifetime = remote.FreshFor is { } fresh ? (fresh < _coordinator.MaxLifetime ? fresh : _coordinator.MaxLifetime) : _hitLifetime;
            if (lifetime > TimeSpan.Zero)
            {
                CopyLocally(key, nearLease, remote.Value, lifetime, remote.Tags ?? UnknownTags);
            }
            else
            {
                _local.ReleaseLease(key, nearLease);
            }

            NearKeyIndex<TKey>.Release(entry);
            return remote;
        }

        if (remote.Lease.IsGranted)
        {
            // The strategy loads and fills with this lease: the value is copied in if the remote fill stores it.
            return remote with { Lease = new CacheLease(remote.Lease.Token, new NearLease(remote.Lease, nearLease, entry)) };
        }

        EndCopy(key, entry, nearLease);
        return remote;
    }

    /// <summary>
    /// Copies a value in with the near-cache lease taken before its remote read began: refused if the key was invalidated
    /// since, or one of <paramref name="tags"/> (the entry's) was (the tag versions' stamp is the lease's).
    /// </summary>
    private void CopyLocally(TKey key, CacheLease nearLease, CacheValue<TValue> value, TimeSpan lifetime, IReadOnlyCollection<string>? tags)
    {
        if (!_coordinator.Serving)
        {
            _local.ReleaseLease(key, nearLease);
            return;
        }

        bool stored;
        try
        {
            stored = _local.Fill(key, nearLease, value, new StoreEntryOptions(lifetime) { Tags = tags is { Count: > 0 } ? tags : null });
        }
        catch (Exception)
        {
            // A value the near cache cannot measure or hold is simply not copied (the remote has it).
            return;
        }

        if (!stored)
        {
            _instruments.Telemetry.NearFillsFenced.Add(1, _nameTag, _cacheTag);
        }
        else if (tags is { Count: > 0 } && _tagVersions.Count > 2 * _maxTags)
        {
            // Copies of entries with ever new tags and no tag invalidation to trim them at: bounded here too.
            Flush();
            _coordinator.CountFlush(this, "tag_overflow");
        }
    }

    private void EndCopy(TKey key, NearKeyIndex<TKey>.Entry entry, CacheLease nearLease)
    {
        _local.ReleaseLease(key, nearLease);
        NearKeyIndex<TKey>.Release(entry);
    }

    /// <summary>Drops the copy and revokes near-cache leases of the key.</summary>
    private void Drop(TKey key) => _local.Invalidate(key);

    /// <summary>This process changes the key: its copy goes, here and in near caches sharing the key prefix.</summary>
    private void DropChanged(TKey key)
    {
        _local.Invalidate(key);
        _coordinator.OnLocalChange(this, () => StoreKey(key));
    }

    private string StoreKey(TKey key) => KeyPrefix + _keyFormatter(key);

    /// <summary>The remote lease handed to the strategy, with what the near cache needs to copy the filled value in.</summary>
    private sealed record NearLease(CacheLease Remote, CacheLease Local, NearKeyIndex<TKey>.Entry Entry);
}
