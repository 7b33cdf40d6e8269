using System.Diagnostics;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

internal sealed partial class CacheStrategy<TKey, TValue>
{
    /// <summary>
    /// One store round trip for every key; the misses join loads already in flight, and the rest are loaded
    /// with one <see cref="ICacheLoader{TKey, TValue}.LoadManyAsync"/> whose per-key flights other readers can join.
    /// </summary>
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
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get-many", ex);
            lookups = Enumerable.Repeat(CacheLookup<TValue>.Unavailable, distinct.Count).ToArray();
        }

        var owned = new List<(int Index, Flight Flight)>();
        var joined = new List<(TKey Key, Flight Flight)>();
        for (var i = 0; i < distinct.Count; i++)
        {
            if (lookups[i].Status == CacheLookupStatus.Hit)
            {
                _instruments.Hit();
                if (lookups[i].Value.Exists)
                {
                    results[distinct[i]] = lookups[i].Value.Value!;
                }

                continue;
            }

            if (CanRevalidate(lookups[i]))
            {
                // Served stale now; the lease goes back first so that the background refresh can take it.
                _instruments.Hit();
                _instruments.StaleServed(revalidating: true);
                AddFound(results, distinct[i], lookups[i].Value);
                await ReleaseQuietlyAsync(distinct[i], lookups[i].Lease).ConfigureAwait(false);
                StartBackgroundRefresh(distinct[i], loader, s_registeredLoad, lookups[i].Value);
                continue;
            }

            _instruments.Miss();
            var flight = JoinOrCreateFlight(distinct[i], out var created);
            if (created)
            {
                owned.Add((i, flight));
            }
            else
            {
                joined.Add((distinct[i], flight));
                await ReleaseQuietlyAsync(distinct[i], lookups[i].Lease).ConfigureAwait(false);
            }
        }

        if (owned.Count > 0)
        {
            _ = RunBulkFlightAsync(loader, distinct, lookups, owned);
        }

        try
        {
            foreach (var (index, flight) in owned)
            {
                AddFound(results, distinct[index], await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false));
            }

            foreach (var (key, flight) in joined)
            {
                AddFound(results, key, await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            owned.ForEach(static o => o.Flight.Leave());
            joined.ForEach(static j => j.Flight.Leave());
        }

        return results;
    }

    private static void AddFound(Dictionary<TKey, TValue> results, TKey key, CacheValue<TValue> value)
    {
        if (value.Exists)
        {
            results[key] = value.Value!;
        }
    }

    /// <summary>Loads the keys of several flights in one bulk query and completes each flight with its key's result.</summary>
    private async Task RunBulkFlightAsync(
        ICacheLoader<TKey, TValue> loader,
        List<TKey> keys,
        CacheLookup<TValue>[] lookups,
        List<(int Index, Flight Flight)> owned)
    {
        // The bulk load is cancelled only when every one of its flights has lost all its waiters.
        using var cancellation = new CancellationTokenSource();
        var live = owned.Count;
        var registrations = owned.Select(o => o.Flight.LoadCancellation.Token.Register(() =>
        {
            if (Interlocked.Decrement(ref live) == 0)
            {
                cancellation.Cancel();
            }
        })).ToList();

        var leases = owned.Select(o => lookups[o.Index].Lease).ToArray();
        try
        {
            var missKeys = owned.Select(o => keys[o.Index]).ToArray();
            IReadOnlyDictionary<TKey, LoadResult<TValue>> loaded;
            using (var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.load_many"))
            {
                activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
                activity?.SetTag("cachepatterns.keys", missKeys.Length);
                var started = _time.GetTimestamp();
                try
                {
                    using (CacheFillContext.Enter())
                    {
                        loaded = await loader.LoadManyAsync(missKeys, cancellation.Token).ConfigureAwait(false);
                    }
                    _instruments.Loaded(success: true, _time.GetElapsedTime(started).TotalSeconds);
                }
                catch (Exception ex)
                {
                    _instruments.Loaded(success: false, _time.GetElapsedTime(started).TotalSeconds);
                    activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    FailBulk(ex, lookups, owned, cancellation.IsCancellationRequested);
                    return;
                }
            }

            for (var o = 0; o < owned.Count; o++)
            {
                var key = missKeys[o];
                var result = loaded.TryGetValue(key, out var r) ? r : LoadResult.NotFound<TValue>();
                var lease = leases[o];
                leases[o] = CacheLease.None;
                await FillOrReleaseAsync(key, lease, result).ConfigureAwait(false);
                owned[o].Flight.Completion.TrySetResult(ToCacheValue(result));
            }
        }
        catch (Exception ex)
        {
            owned.ForEach(o => o.Flight.Completion.TrySetException(ex));
        }
        finally
        {
            registrations.ForEach(static r => r.Dispose());
            for (var o = 0; o < owned.Count; o++)
            {
                await ReleaseQuietlyAsync(keys[owned[o].Index], leases[o]).ConfigureAwait(false);
                _flights.TryRemove(new KeyValuePair<TKey, Flight>(keys[owned[o].Index], owned[o].Flight));
            }
        }
    }

    private void FailBulk(Exception ex, CacheLookup<TValue>[] lookups, List<(int Index, Flight Flight)> owned, bool cancelled)
    {
        var servedStale = false;
        foreach (var (index, flight) in owned)
        {
            if (!cancelled && _options.FailSafeMaxStaleness is not null && lookups[index].Status == CacheLookupStatus.Stale)
            {
                servedStale = true;
                _instruments.StaleServed();
                flight.Completion.TrySetResult(lookups[index].Value);
            }
            else if (cancelled)
            {
                flight.Completion.TrySetCanceled();
            }
            else
            {
                flight.Completion.TrySetException(ex);
            }
        }

        if (servedStale)
        {
            Log.ServingStale(_instruments.Logger, Name, ex);
        }
    }
}
