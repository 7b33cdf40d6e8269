namespace CachePatterns.Providers;

/// <summary>
/// A cache server or an in-process store. The core asks it for one typed <see cref="ICacheStore{TKey, TValue}"/>
/// per strategy; everything provider-specific (connections, key encoding, serialization, leases on
/// the server) lives behind that store.
/// </summary>
/// <remarks>See docs/architecture.md, "The provider contract", for the rules every provider keeps.</remarks>
public interface ICacheProvider : IDisposable
{
    /// <summary>Gets the provider's name for metrics and logs (for example <c>memory</c> or <c>redis</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Gets a value indicating whether the provider lives in this process and cannot time out.
    /// In-process stores are called directly; out-of-process ones go through the timeout and circuit breaker.
    /// </summary>
    bool IsInProcess { get; }

    /// <summary>Creates the store of one strategy.</summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="descriptor">What the store holds and how to encode it.</param>
    /// <returns>The store.</returns>
    ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull;

    /// <summary>Checks whether the provider is reachable and healthy.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The health.</returns>
    ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Raised when the connection to the server (or to one node, <see cref="CacheConnectionChangedEventArgs.Node"/>) is
    /// lost or restored. "Lost" covers a broken connection and also one that stays open but stops answering (a hung or
    /// paused server: the provider watches it itself); "Restored" covers a reconnect to a restarted server. Raised on a
    /// background thread, never while a caller waits; handlers must be quick and must not throw.
    /// </summary>
    /// <remarks>
    /// The core replays lost invalidations on "Restored" and lets the next call probe an open circuit at once. A near
    /// cache in front of the provider drops what it holds on either signal. The default never raises it (a provider
    /// that cannot tell, such as an in-process one).
    /// </remarks>
    event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged
    {
        add { }
        remove { }
    }

    /// <summary>
    /// Gets the channel on which the provider hears invalidations made by other processes sharing the server, or
    /// <see langword="null"/> (default) when it has none. A near cache in front of a provider without one bounds how long
    /// its copies live instead (<see cref="NearCache.NearCacheOptions.MaxStaleness"/>). A provider that has one must publish
    /// every value change it makes (set, fill, invalidation, write completion or abort) after the change is visible.
    /// </summary>
    ICacheInvalidationSource? Invalidations => null;

    /// <summary>
    /// Gets a value indicating whether <see cref="SweepAsync"/> is supported. The default is <see langword="false"/>.
    /// </summary>
    bool CanSweep => false;

    /// <summary>
    /// Invalidates, as <see cref="ICacheStore{TKey, TValue}.InvalidateAsync"/> would (value removed, leases revoked,
    /// writes in flight outdated), every key of every store whose key prefix starts with <paramref name="keyPrefix"/>
    /// that exists when the call starts; when it returns, no lease or write registration granted before it started can
    /// still store a value, and nothing one stored meanwhile remains. It may invalidate more (keys of a longer prefix
    /// sharing the start), never less.
    /// The core sweeps when it could not remember every lost invalidation (docs/architecture.md, "The invalidation ledger").
    /// </summary>
    /// <param name="keyPrefix">The <see cref="CacheStoreDescriptor{TKey, TValue}.KeyPrefix"/> of the store to sweep; empty for every store.</param>
    /// <param name="cancellationToken">Cancels the sweep (which then guarantees nothing).</param>
    /// <returns>How many keys were invalidated.</returns>
    /// <exception cref="CacheProviderException">A server or node could not be swept; the sweep guarantees nothing.</exception>
    /// <exception cref="NotSupportedException">The provider cannot sweep (<see cref="CanSweep"/> is <see langword="false"/>).</exception>
    ValueTask<long> SweepAsync(string keyPrefix, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The cache provider '{Name}' cannot sweep a key prefix.");

    /// <summary>
    /// Gets a value indicating whether the provider keeps tags (<see cref="StoreEntryOptions.Tags"/>,
    /// <see cref="InvalidateTagAsync"/>). The default is <see langword="false"/>: the core then stores no tagged entry
    /// (it is loaded on every read) and tag invalidation throws <see cref="NotSupportedException"/>.
    /// </summary>
    bool SupportsTags => false;

    /// <summary>
    /// Invalidates a tag for every store of this provider (the tag's scope is the named cache): once this returns, every
    /// entry carrying <paramref name="tag"/> whose stamp is older than the call — stored, or being filled under a lease
    /// granted before the call — is a miss in every client, and a fill under such a lease stores nothing valid.
    /// </summary>
    /// <param name="tag">The tag, already validated (<see cref="CacheTags.Validate"/>).</param>
    /// <param name="cancellationToken">Cancels the invalidation (which then guarantees nothing).</param>
    /// <returns>A task that completes when the tag is invalidated.</returns>
    /// <exception cref="CacheProviderException">The server could not be reached.</exception>
    /// <exception cref="NotSupportedException">The provider keeps no tags (<see cref="SupportsTags"/> is <see langword="false"/>).</exception>
    ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The cache provider '{Name}' does not support tags.");
}
