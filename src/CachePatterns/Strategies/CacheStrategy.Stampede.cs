using System.Diagnostics;
using System.Runtime.ExceptionServices;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

/// <summary>
/// Single flight: the one mechanism every load goes through, whether a single read, a batch (<c>.ReadMany.cs</c>) or a
/// stale-while-revalidate refresh started it.
/// </summary>
/// <remarks>
/// <para>
/// Read-after-completed-write: a read that begins after a write of its key completed (in any process) never returns a
/// row older than that write. Each caller takes a stamp from <see cref="_clock"/> when it joins a flight, and the flight
/// stamps its result with the moment the step that decided it was issued: the lookup for a hit, the fill for a loaded
/// value the provider stored (a fenced fill is refused when a write's cache step came after the lease was granted),
/// the start of the load for a value that was not stored. A caller whose result is stamped before it joined cannot
/// know that result is newer than every write completed before it joined, so it joins the key's next flight instead.
/// </para>
/// <para>
/// A fenced fill means the loaded row may be older than a write that has completed: the flight loads again (at most
/// <see cref="MaxLoadsPerFlight"/> loads in all) and hands the newer row to its callers. At the bound it hands the last
/// row, stamped with the start of its load: callers that joined before that load began still get a row read after
/// they began; later ones join the next flight.
/// </para>
/// </remarks>
internal sealed partial class CacheStrategy<TKey, TValue>
{
    /// <summary>The most loads one flight runs when its fills keep being fenced by writes.</summary>
    internal const int MaxLoadsPerFlight = 3;

    /// <summary>How often one caller moves to a newer flight before it takes what it gets (one move always suffices; see remarks).</summary>
    private const int MaxFlightsPerCaller = 3;

    private static readonly TimeSpan SlowLoadAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SlowLoadPollInterval = TimeSpan.FromMilliseconds(100);

    private long _clock;

    /// <summary>A strictly increasing stamp: orders callers joining flights against the steps that decide results.</summary>
    private long NextStamp() => Interlocked.Increment(ref _clock);

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
        long arrived,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var flight = JoinOrCreateFlight(key, out var created);
            if (created)
            {
                // A provider that just failed is not asked again for this read: load without a lease, store nothing.
                _ = RunFlightAsync(key, flight, state, factory, bypassCache ? CacheLookup<TValue>.Unavailable : null, loaded: null, stale, background: false);
            }

            var result = await WaitAsync(flight, cancellationToken).ConfigureAwait(false);
            if (result.Stamp > arrived || attempt == MaxFlightsPerCaller)
            {
                return result.Value;
            }
        }
    }

    /// <summary>Waits for a flight this caller joined, and leaves it (the last one leaving cancels its load).</summary>
    private static async ValueTask<FlightResult> WaitAsync(Flight flight, CancellationToken cancellationToken)
    {
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
                if (!existing.Completion.Task.IsCompleted && existing.TryJoin())
                {
                    created = false;
                    return existing;
                }

                // Done (its runner is about to remove it), or every waiter gave up and its load is being cancelled: start afresh.
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
        await RunFlightAsync(key, flight, state, factory, lookup: null, loaded: null, stale, background: true).ConfigureAwait(false);
        if (flight.Completion.Task.Exception is { } failure)
        {
            Log.BackgroundRefreshFailed(_instruments.Logger, Name, failure.GetBaseException());
        }
    }

    /// <summary>Forgets the flight of a key after a write, so readers that start later do not get its older value.</summary>
    private void DetachFlight(TKey key) => _flights.TryRemove(key, out _);

    /// <summary>
    /// Runs one flight to its result: lease lookup, wait for another process's load, load, fenced fill, and a reload when
    /// the fill is fenced. Entry points: a fresh flight (<paramref name="lookup"/> and <paramref name="loaded"/> null),
    /// a read that skips the cache (<paramref name="lookup"/> <see cref="CacheLookupStatus.Unavailable"/>), and a batch
    /// that made the lookup (<paramref name="lookup"/>) and maybe the load (<paramref name="loaded"/>) for many keys at once.
    /// Completes the flight, gives back any lease it still holds and removes the flight from the table; never throws.
    /// </summary>
    private async Task RunFlightAsync<TState>(
        TKey key,
        Flight flight,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CacheLookup<TValue>? lookup,
        PendingLoad? loaded,
        CacheValue<TValue>? stale,
        bool background)
    {
        var cancellationToken = flight.LoadCancellation.Token;
        var lease = CacheLease.None;
        try
        {
            for (var loads = 0; ; )
            {
                LoadResult<TValue> result;
                long loadStamp;
                if (loaded is { } batch)
                {
                    // The batch made the lookup and the load: what is left is the fill (or the fail-safe).
                    loaded = null;
                    lease = lookup.GetValueOrDefault().Lease;
                    stale = StaleOf(lookup.GetValueOrDefault()) ?? stale;
                    lookup = null;
                    if (batch.Error is { } error)
                    {
                        if (TryServeFailSafe(flight, error.SourceException, stale, cancellationToken))
                        {
                            return;
                        }

                        error.Throw();
                    }

                    (result, loadStamp) = (batch.Result, batch.Stamp);
                }
                else
                {
                    var lookupStamp = NextStamp();
                    var found = lookup ?? await GetWithLeaseAsync(key, cancellationToken).ConfigureAwait(false);
                    lookup = null;
                    if (found.Status is CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere)
                    {
                        stale = StaleOf(found) ?? stale;
                        if (background)
                        {
                            // Another process is refreshing the key already: its fill is the refresh. Readers that missed
                            // and joined this flight meanwhile must not take the stale value: stamped oldest, they move on.
                            flight.Complete(stale.GetValueOrDefault(), stamp: 0);
                            return;
                        }

                        (found, lookupStamp) = await WaitForOtherLoaderAsync(key, cancellationToken).ConfigureAwait(false);
                    }

                    if (found.Status == CacheLookupStatus.Hit)
                    {
                        flight.Complete(found.Value, lookupStamp);
                        return;
                    }

                    stale = StaleOf(found) ?? stale;
                    lease = found.Lease;
                    loadStamp = NextStamp();
                    try
                    {
                        result = await LoadOneAsync(key, state, factory, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (TryServeFailSafe(flight, ex, stale, cancellationToken))
                    {
                        return;
                    }
                }

                loads++;
                var granted = lease;
                lease = CacheLease.None;
                var fillStamp = NextStamp();
                var fill = await FillOrReleaseAsync(key, granted, result).ConfigureAwait(false);
                if (fill == FillOutcome.Stored)
                {
                    flight.Complete(ToCacheValue(result), fillStamp);
                    return;
                }

                if (fill == FillOutcome.Fenced && loads < MaxLoadsPerFlight)
                {
                    // A write's cache step came after our lease: the row may be older than that write. Load it again.
                    continue;
                }

                flight.Complete(ToCacheValue(result), loadStamp);
                return;
            }
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

    /// <summary>Calls the loader (or factory) for one key, with its activity, metrics and the fill marker.</summary>
    private async ValueTask<LoadResult<TValue>> LoadOneAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken)
    {
        using var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.load");
        activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
        var started = _time.GetTimestamp();
        try
        {
            LoadResult<TValue> result;
            using (CacheFillContext.Enter())
            {
                result = await factory(key, state, cancellationToken).ConfigureAwait(false);
            }

            _instruments.Loaded(success: true, _time.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        catch (Exception ex)
        {
            _instruments.Loaded(success: false, _time.GetElapsedTime(started).TotalSeconds);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Fail-safe: a failed load hands the stale value to every caller when the strategy allows it and the load was not
    /// cancelled. A fail-safe value is stale by design, outside read-after-completed-write: callers take it as it is.
    /// </summary>
    private bool TryServeFailSafe(Flight flight, Exception exception, CacheValue<TValue>? stale, CancellationToken cancellationToken)
    {
        if (stale is not { } value || _options.FailSafeMaxStaleness is null || cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        Log.ServingStale(_instruments.Logger, Name, exception);
        _instruments.StaleServed();
        flight.Complete(value, long.MaxValue);
        return true;
    }

    private static CacheValue<TValue>? StaleOf(in CacheLookup<TValue> lookup) =>
        lookup.Status is CacheLookupStatus.Stale or CacheLookupStatus.StaleLeaseHeldElsewhere ? lookup.Value : null;

    /// <summary>
    /// Another client holds the fill lease: poll for its value while the provider reports the lease held (the holder is
    /// loading, or its lease has not expired on the server yet), at most <see cref="CacheStrategyOptions.LeaseWaitTimeout"/>.
    /// When the holder's lease lapses, the poll that finds it free takes the lease itself: one process loads, not all.
    /// At the bound, the caller loads without a lease (the result is returned but not stored).
    /// </summary>
    /// <returns>The last lookup and the stamp taken before it was issued.</returns>
    private async ValueTask<(CacheLookup<TValue> Lookup, long Stamp)> WaitForOtherLoaderAsync(TKey key, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        TimeSpan waited;
        while ((waited = _time.GetElapsedTime(started)) < _options.LeaseWaitTimeout)
        {
            // A holder that has not filled within a second is a slow load: poll it less often.
            var interval = waited < SlowLoadAfter || _options.LeaseWaitPollInterval >= SlowLoadPollInterval ? _options.LeaseWaitPollInterval : SlowLoadPollInterval;
            await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            var stamp = NextStamp();
            var lookup = await GetWithLeaseAsync(key, cancellationToken).ConfigureAwait(false);
            if (lookup.Status is not (CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere))
            {
                return (lookup, stamp);
            }
        }

        return (CacheLookup<TValue>.Miss, NextStamp());
    }

    /// <summary>What a flight hands its callers: the value and the stamp of the step that decided it.</summary>
    private readonly record struct FlightResult(CacheValue<TValue> Value, long Stamp);

    /// <summary>A batch's load of one key, made before the key's flight runs the rest (fill, reload, fail-safe).</summary>
    private readonly record struct PendingLoad(LoadResult<TValue> Result, ExceptionDispatchInfo? Error, long Stamp);

    /// <summary>One load shared by every concurrent caller of a key.</summary>
    private sealed class Flight
    {
        private int _waiters = 1;

        public TaskCompletionSource<FlightResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancelled when every waiter has given up. Not disposed: it never owns a timer or wait handle.</summary>
        public CancellationTokenSource LoadCancellation { get; } = new();

        public void Complete(CacheValue<TValue> value, long stamp) => Completion.TrySetResult(new FlightResult(value, stamp));

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
