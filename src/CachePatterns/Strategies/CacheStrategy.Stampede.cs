using System.Diagnostics;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

internal sealed partial class CacheStrategy<TKey, TValue>
{
    /// <summary>
    /// Joins the load in flight for the key, or starts one. The load runs once for every concurrent caller;
    /// one caller giving up does not cancel it, all of them giving up does.
    /// </summary>
    private async ValueTask<CacheValue<TValue>> JoinOrStartFlightAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CacheValue<TValue>? stale,
        bool bypassCache,
        CancellationToken cancellationToken)
    {
        var flight = JoinOrCreateFlight(key, out var created);
        if (created)
        {
            _ = RunFlightAsync(key, flight, state, factory, stale, bypassCache, background: false);
        }

        try
        {
            return await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            flight.Leave();
        }
    }

    /// <summary>Joins the key's flight, or registers a new one that the caller must run (<paramref name="created"/>).</summary>
    private Flight JoinOrCreateFlight(TKey key, out bool created)
    {
        while (true)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                if (existing.TryJoin())
                {
                    created = false;
                    return existing;
                }

                // Every waiter of that flight gave up and its load is being cancelled: start afresh.
                _flights.TryRemove(new KeyValuePair<TKey, Flight>(key, existing));
                continue;
            }

            var flight = new Flight();
            if (_flights.TryAdd(key, flight))
            {
                created = true;
                return flight;
            }
        }
    }

    /// <summary>
    /// Starts a load that refreshes a stale key in the background, unless one is in flight already. Nobody waits for it,
    /// so no caller leaving can cancel it; readers that miss meanwhile join it as any other flight.
    /// </summary>
    private void StartBackgroundRefresh<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CacheValue<TValue> stale)
    {
        if (_flights.ContainsKey(key))
        {
            return;
        }

        // The flight's first waiter is the refresh itself and never leaves: its load is never cancelled.
        var flight = new Flight();
        if (_flights.TryAdd(key, flight))
        {
            _ = RefreshInBackgroundAsync(key, flight, state, factory, stale);
        }
    }

    private async Task RefreshInBackgroundAsync<TState>(
        TKey key,
        Flight flight,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CacheValue<TValue> stale)
    {
        await RunFlightAsync(key, flight, state, factory, stale, bypassCache: false, background: true).ConfigureAwait(false);
        if (flight.Completion.Task.Exception is { } failure)
        {
            Log.BackgroundRefreshFailed(_instruments.Logger, Name, failure.GetBaseException());
        }
    }

    /// <summary>Forgets the flight of a key after a write, so readers that start later do not get its older value.</summary>
    private void DetachFlight(TKey key) => _flights.TryRemove(key, out _);

    private async Task RunFlightAsync<TState>(
        TKey key,
        Flight flight,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CacheValue<TValue>? stale,
        bool bypassCache,
        bool background)
    {
        var cancellationToken = flight.LoadCancellation.Token;
        var lease = CacheLease.None;
        try
        {
            // A provider that just failed is not asked again for this read: load without a lease, store nothing.
            var lookup = bypassCache ? CacheLookup<TValue>.Unavailable : await GetWithLeaseAsync(key, cancellationToken).ConfigureAwait(false);
            if (background && lookup.Status is CacheLookupStatus.StaleLeaseHeldElsewhere or CacheLookupStatus.MissLeaseHeldElsewhere)
            {
                // Another process is refreshing the key already: its fill is the refresh.
                flight.Completion.TrySetResult(lookup.Status == CacheLookupStatus.StaleLeaseHeldElsewhere ? lookup.Value : stale.GetValueOrDefault());
                return;
            }

            if (lookup.Status is CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere)
            {
                if (lookup.Status == CacheLookupStatus.StaleLeaseHeldElsewhere)
                {
                    stale = lookup.Value;
                }

                lookup = await WaitForOtherLoaderAsync(key, cancellationToken).ConfigureAwait(false);
            }

            if (lookup.Status == CacheLookupStatus.Hit)
            {
                flight.Completion.TrySetResult(lookup.Value);
                return;
            }

            if (lookup.Status is CacheLookupStatus.Stale or CacheLookupStatus.StaleLeaseHeldElsewhere)
            {
                stale = lookup.Value;
            }

            lease = lookup.Lease;
            LoadResult<TValue> result;
            using (var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.load"))
            {
                activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
                var started = _time.GetTimestamp();
                try
                {
                    using (CacheFillContext.Enter())
                    {
                        result = await factory(key, state, cancellationToken).ConfigureAwait(false);
                    }
                    _instruments.Loaded(success: true, _time.GetElapsedTime(started).TotalSeconds);
                }
                catch (Exception ex)
                {
                    _instruments.Loaded(success: false, _time.GetElapsedTime(started).TotalSeconds);
                    activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    if (stale is { } s && _options.FailSafeMaxStaleness is not null && !cancellationToken.IsCancellationRequested)
                    {
                        Log.ServingStale(_instruments.Logger, Name, ex);
                        _instruments.StaleServed();
                        flight.Completion.TrySetResult(s);
                        return;
                    }

                    throw;
                }
            }

            var granted = lease;
            lease = CacheLease.None;
            await FillOrReleaseAsync(key, granted, result).ConfigureAwait(false);
            flight.Completion.TrySetResult(ToCacheValue(result));
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            flight.Completion.TrySetCanceled(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            flight.Completion.TrySetException(ex);
        }
        finally
        {
            await ReleaseQuietlyAsync(key, lease).ConfigureAwait(false);
            _flights.TryRemove(new KeyValuePair<TKey, Flight>(key, flight));
        }
    }

    /// <summary>
    /// Another client holds the fill lease: poll for its value, bounded by <see cref="CacheStrategyOptions.LeaseWaitTimeout"/>,
    /// then load without a lease (the result is returned but not stored).
    /// </summary>
    private async ValueTask<CacheLookup<TValue>> WaitForOtherLoaderAsync(TKey key, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < _options.LeaseWaitTimeout)
        {
            await Task.Delay(_options.LeaseWaitPollInterval, _time, cancellationToken).ConfigureAwait(false);
            var lookup = await GetWithLeaseAsync(key, cancellationToken).ConfigureAwait(false);
            if (lookup.Status is not (CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere))
            {
                return lookup;
            }
        }

        return CacheLookup<TValue>.Miss;
    }

    /// <summary>One load shared by every concurrent caller of a key.</summary>
    private sealed class Flight
    {
        private int _waiters = 1;

        public TaskCompletionSource<CacheValue<TValue>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancelled when every waiter has given up. Not disposed: it never owns a timer or wait handle.</summary>
        public CancellationTokenSource LoadCancellation { get; } = new();

        public bool TryJoin()
        {
            var waiters = Volatile.Read(ref _waiters);
            while (waiters > 0)
            {
                var seen = Interlocked.CompareExchange(ref _waiters, waiters + 1, waiters);
                if (seen == waiters)
                {
                    return true;
                }

                waiters = seen;
            }

            return false;
        }

        public void Leave()
        {
            if (Interlocked.Decrement(ref _waiters) == 0 && !Completion.Task.IsCompleted)
            {
                LoadCancellation.Cancel();
            }
        }
    }
}
