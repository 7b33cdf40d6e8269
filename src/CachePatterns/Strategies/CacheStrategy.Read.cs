using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

internal sealed partial class CacheStrategy<TKey, TValue>
{
    public ValueTask<TValue?> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);
        return _loader is null ? ValueTask.FromException<TValue?>(NoLoader()) : GetOrLoadAsync(key, _loader, s_registeredLoad, cancellationToken);
    }

    public ValueTask<TValue?> GetOrLoadAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return TryGetHit(key, out var value) ? new ValueTask<TValue?>(value) : LookUpOrLoadAsync(key, state, factory, cancellationToken);
    }

    /// <summary>
    /// A fresh hit answered synchronously by an in-memory or near-cache store (<see cref="ISynchronousHitStore{TKey, TValue}"/>),
    /// counted as a hit; <see langword="false"/> when the store cannot answer so (the caller then looks the key up as usual).
    /// Kept apart from the lookup so the hit runs in a small frame: the lookup's <see cref="CacheLookup{TValue}"/> copies
    /// and its large zeroed frame were most of a hit's cost (docs/benchmarks.md).
    /// </summary>
    internal bool TryGetHit(TKey key, out TValue? value)
    {
        Guard.NotNullKey(key);
        CacheValue<TValue> cached;
        if (_memoryHits is { } memory ? memory.TryGetHit(key, out cached) : _hits is { } hits && hits.TryGetHit(key, out cached))
        {
            _instruments.Hit();
            value = cached.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary><see cref="GetOrLoadAsync{TState}"/> after <see cref="TryGetHit"/> found no hit: the full lookup, then the load.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal ValueTask<TValue?> LookUpOrLoadAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken)
    {
        // The hit path completes synchronously for in-process providers: no state machine, no allocation.
        // The store's ValueTask is consumed exactly once: read here when it completed, awaited by GetSlowAsync otherwise.
        ValueTask<CacheLookup<TValue>> pending;
        try
        {
            pending = _store.GetAsync(key, acquireLease: false, cancellationToken);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _instruments.ProviderError("get", ex);
            return LoadAfterLookupAsync(key, CacheLookup<TValue>.Unavailable, state, factory, cancellationToken);
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return GetSlowAsync(key, pending, state, factory, cancellationToken);
        }

        var lookup = pending.Result;
        if (lookup.Status == CacheLookupStatus.Hit)
        {
            _instruments.Hit();
            return new ValueTask<TValue?>(lookup.Value.Value);
        }

        return LoadAfterLookupAsync(key, lookup, state, factory, cancellationToken);
    }

    public async ValueTask<(bool Found, TValue? Value)> TryGetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);
        try
        {
            var lookup = await _store.GetAsync(key, acquireLease: false, cancellationToken).ConfigureAwait(false);
            if (lookup.Status == CacheLookupStatus.Hit)
            {
                _instruments.Hit();
                return (lookup.Value.Exists, lookup.Value.Value);
            }
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get", ex);
        }

        _instruments.Miss();
        return (false, default);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TValue?> GetSlowAsync<TState>(
        TKey key,
        ValueTask<CacheLookup<TValue>> pending,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken)
    {
        CacheLookup<TValue> lookup;
        try
        {
            lookup = await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get", ex);
            lookup = CacheLookup<TValue>.Unavailable;
        }

        if (lookup.Status == CacheLookupStatus.Hit)
        {
            _instruments.Hit();
            return lookup.Value.Value;
        }

        return await LoadAfterLookupAsync(key, lookup, state, factory, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<TValue?> LoadAfterLookupAsync<TState>(
        TKey key,
        CacheLookup<TValue> lookup,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken)
    {
        if (CanRevalidate(lookup))
        {
            _instruments.Hit();
            _instruments.StaleServed(revalidating: true);
            StartBackgroundRefresh(key, state, factory, lookup.Value);
            return lookup.Value.Value;
        }

        _instruments.Miss();
        var stale = lookup.Status is CacheLookupStatus.Stale or CacheLookupStatus.StaleLeaseHeldElsewhere ? lookup.Value : (CacheValue<TValue>?)null;
        var bypassCache = lookup.Status == CacheLookupStatus.Unavailable;
        var value = await JoinOrStartFlightAsync(key, state, factory, stale, bypassCache, NextStamp(), cancellationToken).ConfigureAwait(false);
        return value.Value;
    }

    /// <summary>Looks a key up asking for a lease; a provider failure is an unavailable cache.</summary>
    private async ValueTask<CacheLookup<TValue>> GetWithLeaseAsync(TKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await _store.GetAsync(key, acquireLease: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get", ex);
            return CacheLookup<TValue>.Unavailable;
        }
    }

    /// <summary>Stores a load result with its lease when it is cacheable, else gives the lease back. Never throws.</summary>
    private async ValueTask<FillOutcome> FillOrReleaseAsync(TKey key, CacheLease lease, LoadResult<TValue> result)
    {
        if (!lease.IsGranted)
        {
            return FillOutcome.NotStored;
        }

        if (!ShouldCache(result))
        {
            await ReleaseQuietlyAsync(key, lease).ConfigureAwait(false);
            return FillOutcome.NotStored;
        }

        try
        {
            var options = ResolveEntryOptions(result.Options, result.Found);
            if (await _store.FillAsync(key, lease, ToCacheValue(result), options, CancellationToken.None).ConfigureAwait(false))
            {
                return FillOutcome.Stored;
            }

            _instruments.FillFenced();
            return FillOutcome.Fenced;
        }
        catch (Exception ex) when (ex is CacheValueTooLargeException or CacheSerializationException)
        {
            Log.ValueNotCached(_instruments.Logger, Name, ex.Message);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("fill", ex);
        }

        return FillOutcome.NotStored;
    }

    private async ValueTask ReleaseQuietlyAsync(TKey key, CacheLease lease)
    {
        if (!lease.IsGranted)
        {
            return;
        }

        try
        {
            await _store.ReleaseLeaseAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("release", ex);
        }
    }

    /// <summary>What became of a fill.</summary>
    private enum FillOutcome
    {
        /// <summary>Nothing was offered to the provider (no lease, not cacheable) or the provider failed.</summary>
        NotStored,

        /// <summary>The provider stored the value: no write or invalidation of the key came after the lease was granted.</summary>
        Stored,

        /// <summary>The provider refused the fill: the lease was revoked by a write or invalidation (or expired).</summary>
        Fenced,
    }
}
