using System.Diagnostics;
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
        Guard.NotNullKey(key);
        ArgumentNullException.ThrowIfNull(factory);

        // The hit path completes synchronously for in-process providers: no state machine, no allocation.
        // A pending ValueTask is consumed exactly once, either here (completed) or by GetSlowAsync.
#pragma warning disable CA2012
        ValueTask<CacheLookup<TValue>> pending;
        try
        {
            pending = _store.GetAsync(key, acquireLease: false, cancellationToken);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _instruments.ProviderError("get", ex);
            pending = new ValueTask<CacheLookup<TValue>>(CacheLookup<TValue>.Unavailable);
        }

        if (pending.IsCompletedSuccessfully)
        {
            var lookup = pending.Result;
            if (lookup.Status == CacheLookupStatus.Hit)
            {
                _instruments.Hit();
                return new ValueTask<TValue?>(lookup.Value.Value);
            }
        }

        return GetSlowAsync(key, pending, state, factory, cancellationToken);
#pragma warning restore CA2012
    }

    public async ValueTask<IReadOnlyDictionary<TKey, TValue>> GetManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var loader = _loader ?? throw NoLoader();
        var distinct = new List<TKey>();
        var seen = new HashSet<TKey>();
        foreach (var key in keys)
        {
            Guard.NotNullKey(key);
            if (seen.Add(key))
            {
                distinct.Add(key);
            }
        }

        var results = new Dictionary<TKey, TValue>(distinct.Count);
        if (distinct.Count == 0)
        {
            return results;
        }

        CacheLookup<TValue>[] lookups;
        try
        {
            lookups = await _store.GetManyAsync(distinct, acquireLeases: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException and not OperationCanceledException)
        {
            _instruments.ProviderError("get-many", ex);
            lookups = Enumerable.Repeat(CacheLookup<TValue>.Unavailable, distinct.Count).ToArray();
        }

        var misses = new List<int>();
        for (var i = 0; i < distinct.Count; i++)
        {
            if (lookups[i].Status == CacheLookupStatus.Hit)
            {
                _instruments.Hit();
                if (lookups[i].Value.Exists)
                {
                    results[distinct[i]] = lookups[i].Value.Value!;
                }
            }
            else
            {
                misses.Add(i);
            }
        }

        if (misses.Count == 0)
        {
            return results;
        }

        _instruments.Miss(misses.Count);
        var missKeys = new TKey[misses.Count];
        for (var m = 0; m < misses.Count; m++)
        {
            missKeys[m] = distinct[misses[m]];
        }

        IReadOnlyDictionary<TKey, LoadResult<TValue>> loaded;
        using (var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.load_many"))
        {
            activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
            activity?.SetTag("cachepatterns.keys", missKeys.Length);
            var started = _time.GetTimestamp();
            try
            {
                loaded = await loader.LoadManyAsync(missKeys, cancellationToken).ConfigureAwait(false);
                _instruments.Loaded(success: true, _time.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception ex)
            {
                _instruments.Loaded(success: false, _time.GetElapsedTime(started).TotalSeconds);
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                foreach (var i in misses)
                {
                    await ReleaseQuietlyAsync(distinct[i], lookups[i].Lease).ConfigureAwait(false);
                }

                if (_options.FailSafeMaxStaleness is not null && misses.TrueForAll(i => lookups[i].Status == CacheLookupStatus.Stale))
                {
                    Log.ServingStale(_instruments.Logger, Name, ex);
                    foreach (var i in misses)
                    {
                        _instruments.StaleServed();
                        if (lookups[i].Value.Exists)
                        {
                            results[distinct[i]] = lookups[i].Value.Value!;
                        }
                    }

                    return results;
                }

                throw;
            }
        }

        foreach (var i in misses)
        {
            var key = distinct[i];
            var result = loaded.TryGetValue(key, out var r) ? r : LoadResult.NotFound<TValue>();
            if (result.Found)
            {
                results[key] = result.Value!;
            }

            await FillOrReleaseAsync(key, lookups[i].Lease, result).ConfigureAwait(false);
        }

        return results;
    }

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

        _instruments.Miss();
        var stale = lookup.Status == CacheLookupStatus.Stale ? lookup.Value : (CacheValue<TValue>?)null;
        var bypassCache = lookup.Status == CacheLookupStatus.Unavailable;
        return await JoinOrStartFlightAsync(key, state, factory, stale, bypassCache, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Looks a key up asking for a lease; a provider failure is a miss without a lease.</summary>
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
    private async ValueTask FillOrReleaseAsync(TKey key, CacheLease lease, LoadResult<TValue> result)
    {
        if (!lease.IsGranted)
        {
            return;
        }

        if (!ShouldCache(result))
        {
            await ReleaseQuietlyAsync(key, lease).ConfigureAwait(false);
            return;
        }

        try
        {
            var options = ResolveEntryOptions(result.Options, result.Found);
            if (!await _store.FillAsync(key, lease, ToCacheValue(result), options, CancellationToken.None).ConfigureAwait(false))
            {
                _instruments.FillFenced();
            }
        }
        catch (CacheValueTooLargeException ex)
        {
            Log.ValueNotCached(_instruments.Logger, Name, ex.Message);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("fill", ex);
        }
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
}
