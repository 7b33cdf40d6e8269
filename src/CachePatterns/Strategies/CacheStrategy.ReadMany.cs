using System.Diagnostics;
using System.Runtime.ExceptionServices;
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

        var arrived = NextStamp();
        var waits = new List<(TKey Key, Flight Flight)>();
        var batch = new List<(TKey Key, Flight Flight, CacheLookup<TValue> Lookup)>();
        for (var i = 0; i < distinct.Count; i++)
        {
            var key = distinct[i];
            var lookup = lookups[i];
            if (lookup.Status == CacheLookupStatus.Hit)
            {
                _instruments.Hit();
                AddFound(results, key, lookup.Value);
                continue;
            }

            if (CanRevalidate(lookup))
            {
                // Served stale now; the lease goes back first so that the background refresh can take it.
                _instruments.Hit();
                _instruments.StaleServed(revalidating: true);
                AddFound(results, key, lookup.Value);
                await ReleaseQuietlyAsync(key, lookup.Lease).ConfigureAwait(false);
                StartBackgroundRefresh(key, loader, s_registeredLoad, lookup.Value);
                continue;
            }

            _instruments.Miss();
            var flight = JoinOrCreateFlight(key, out var created);
            waits.Add((key, flight));
            if (!created)
            {
                await ReleaseQuietlyAsync(key, lookup.Lease).ConfigureAwait(false);
            }
            else if (lookup.Status is CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere)
            {
                // Another process is loading it: this key's flight waits for that load, as a single read would.
                _ = RunFlightAsync(key, flight, loader, s_registeredLoad, lookup, loaded: null, stale: null, background: false);
            }
            else
            {
                batch.Add((key, flight, lookup));
            }
        }

        if (batch.Count > 0)
        {
            _ = RunBatchAsync(loader, batch);
        }

        var pending = 0;
        try
        {
            for (; pending < waits.Count; pending++)
            {
                var (key, flight) = waits[pending];
                var result = await WaitAsync(flight, cancellationToken).ConfigureAwait(false);
                AddFound(results, key, result.Stamp > arrived
                    ? result.Value
                    : await JoinOrStartFlightAsync(key, loader, s_registeredLoad, stale: null, bypassCache: false, arrived, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            // Flights not waited for (this caller was cancelled) are left, so the last one leaving cancels the load.
            for (pending++; pending < waits.Count; pending++)
            {
                waits[pending].Flight.Leave();
            }
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

    /// <summary>
    /// Loads the keys of several flights with one bulk query, then hands each key to its flight's runner, which fills it
    /// (and reloads it alone if the fill is fenced) or serves fail-safe, exactly as for a single read.
    /// </summary>
    private async Task RunBatchAsync(ICacheLoader<TKey, TValue> loader, List<(TKey Key, Flight Flight, CacheLookup<TValue> Lookup)> batch)
    {
        // The bulk load is cancelled only when every one of its flights has lost all its waiters.
        using var cancellation = new CancellationTokenSource();
        var live = batch.Count;
        var registrations = batch.Select(b => b.Flight.LoadCancellation.Token.Register(() =>
        {
            if (Interlocked.Decrement(ref live) == 0)
            {
                cancellation.Cancel();
            }
        })).ToList();

        var keys = batch.Select(static b => b.Key).ToArray();
        var stamp = NextStamp();
        IReadOnlyDictionary<TKey, LoadResult<TValue>>? loaded = null;
        ExceptionDispatchInfo? error = null;
        using (var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.load_many"))
        {
            activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
            activity?.SetTag("cachepatterns.keys", keys.Length);
            var started = _time.GetTimestamp();
            try
            {
                using (CacheFillContext.Enter())
                {
                    loaded = await loader.LoadManyAsync(keys, cancellation.Token).ConfigureAwait(false);
                }

                _instruments.Loaded(success: true, _time.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception ex)
            {
                _instruments.Loaded(success: false, _time.GetElapsedTime(started).TotalSeconds);
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                registrations.ForEach(static r => r.Dispose());
            }
        }

        foreach (var (key, flight, lookup) in batch)
        {
            var result = loaded is not null && loaded.TryGetValue(key, out var r) ? r : LoadResult.NotFound<TValue>();
            await RunFlightAsync(key, flight, loader, s_registeredLoad, lookup, new PendingLoad(result, error, stamp), stale: null, background: false).ConfigureAwait(false);
        }
    }
}
