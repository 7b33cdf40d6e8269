namespace CachePatterns.Providers;

/// <summary>
/// The provider contract: one strategy's entries in one provider, with fenced fills.
/// </summary>
/// <typeparam name="TKey">The type of the key.</typeparam>
/// <typeparam name="TValue">The type of the value.</typeparam>
/// <remarks>
/// <para>
/// Fencing rules every implementation keeps (atomically, on the server for remote providers):
/// a lease granted by <see cref="GetAsync"/> is revoked by every later <see cref="InvalidateAsync"/>,
/// <see cref="SetAsync"/>, <see cref="BeginWriteAsync"/> and completion of a write of the same key;
/// <see cref="FillAsync"/> with a revoked lease stores nothing. <see cref="CompleteWriteAsync"/> stores its
/// value only if no other write or invalidation of the key began after its <see cref="BeginWriteAsync"/> and none
/// is still in progress; otherwise it removes the key. Leases and write registrations of remote providers expire,
/// so a dead client cannot block a key.
/// </para>
/// <para>
/// A provider that cannot keep a rule may be more conservative (remove instead of store, refuse a
/// fill) but never less. A corrupt entry is reported to <see cref="ICacheStoreObserver"/>, removed and
/// returned as a miss. Methods throw <see cref="ArgumentException"/> for keys or values the provider
/// cannot hold, naming the bad value.
/// </para>
/// </remarks>
public interface ICacheStore<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Looks a key up; on a miss, optionally asks for the fill lease.</summary>
    /// <param name="key">The key.</param>
    /// <param name="acquireLease">Whether to ask for the fill lease on a miss or stale hit.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The lookup. Sliding expiration is renewed by a hit.</returns>
    ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken);

    /// <summary>Looks many keys up in one round trip.</summary>
    /// <param name="keys">The keys, without duplicates.</param>
    /// <param name="acquireLeases">Whether to ask for fill leases on misses.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>One lookup per key, in the order of <paramref name="keys"/>.</returns>
    ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken);

    /// <summary>Stores a loaded value if the lease is still valid, and gives the lease back.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease from <see cref="GetAsync"/>.</param>
    /// <param name="value">The value or the negative entry.</param>
    /// <param name="options">The entry's expiration.</param>
    /// <param name="cancellationToken">Cancels the fill.</param>
    /// <returns><see langword="true"/> if stored; <see langword="false"/> if the lease was revoked (fenced off).</returns>
    ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken);

    /// <summary>Gives a lease back without storing (the load failed or the result is not cacheable).</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease.</param>
    /// <param name="cancellationToken">Cancels the release.</param>
    /// <returns>A task that completes when the lease is released.</returns>
    ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken);

    /// <summary>Stores a value unconditionally (last writer wins), revoking outstanding leases.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">The entry's expiration.</param>
    /// <param name="cancellationToken">Cancels the store.</param>
    /// <returns>A task that completes when the value is stored.</returns>
    ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken);

    /// <summary>Renews an entry's sliding expiration without reading it.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the refresh.</param>
    /// <returns>A task that completes when the entry is refreshed (or was absent).</returns>
    ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Removes a key and revokes its outstanding leases.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the invalidation.</param>
    /// <returns>A task that completes when the key is invalidated.</returns>
    ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Registers a database write of the key that is about to start; revokes outstanding leases.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The write token.</returns>
    ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a successful database write: stores <paramref name="value"/> if this was the only and latest
    /// write of the key, otherwise removes the key. Revokes outstanding leases either way.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="token">The token from <see cref="BeginWriteAsync"/>.</param>
    /// <param name="value">The value written to the database.</param>
    /// <param name="options">The entry's expiration.</param>
    /// <param name="cancellationToken">Cancels the completion.</param>
    /// <returns><see langword="true"/> if the value was stored; <see langword="false"/> if the key was removed instead.</returns>
    ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken);

    /// <summary>Ends a write that failed or whose value is not cached: removes the key and revokes outstanding leases.</summary>
    /// <param name="key">The key.</param>
    /// <param name="token">The token from <see cref="BeginWriteAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the abort.</param>
    /// <returns>A task that completes when the key is removed.</returns>
    ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a value as a <b>store</b> does (the provider holds the only copy, as for <c>IDistributedCache</c> sessions):
    /// unconditionally, revoking outstanding leases and outdating writes in flight like <see cref="SetAsync"/>, but a
    /// failure is only thrown, never remembered or replayed as an invalidation, and the write is idempotent per
    /// <paramref name="writeId"/>: a provider that has already applied that id to the key does not apply it again, so
    /// a retry that reaches the server after a newer write of the key leaves the newer value in place.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">The entry's expiration.</param>
    /// <param name="writeId">The write's id, the same on every retry of it.</param>
    /// <param name="cancellationToken">Cancels the store.</param>
    /// <returns>
    /// <see langword="true"/> if this call applied the write; <see langword="false"/> if an earlier attempt with the same
    /// <paramref name="writeId"/> already had (a provider that cannot tell answers <see langword="true"/>).
    /// </returns>
    ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a key as a <b>store</b> does: like <see cref="InvalidateAsync"/>, but a failure is only thrown (never
    /// remembered for a replay that could later delete a newer value), and idempotent per <paramref name="writeId"/>
    /// like <see cref="StoreAsync"/>.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="writeId">The removal's id, the same on every retry of it.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>
    /// <see langword="true"/> if this call applied the removal; <see langword="false"/> if an earlier attempt with the same
    /// <paramref name="writeId"/> already had.
    /// </returns>
    ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken);

    /// <summary>
    /// Checks that the provider can hold <paramref name="key"/>, without any I/O: throws the <see cref="ArgumentException"/>
    /// every other method would throw for it. A strategy calls it before writing the database, so a key the cache cannot
    /// hold fails the write before the database has it, in both strategies. The default accepts every key.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The provider cannot hold the key (too long, invalid characters).</exception>
    void ValidateKey(TKey key)
    {
    }
}
