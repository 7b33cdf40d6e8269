using System.Collections.Concurrent;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The one record of invalidations that may not have reached the provider, for one store (one strategy): keys whose
/// invalidate, set, write completion or abort failed or was skipped by an open circuit. A key in the ledger is not read
/// from the cache, nor filled, until its invalidation succeeds (docs/architecture.md, "The invalidation ledger").
/// </summary>
/// <remarks>
/// <para>Replayed on the next read of a key, when the provider answers again (circuit closed, or the provider reported its
/// connection restored), and by a timer while anything is pending, so an idle process also tells the provider and other
/// processes stop seeing the old value.</para>
/// <para>Bounded by <see cref="CacheResilienceOptions.MaxPendingInvalidations"/>. Overflow is never silent: the keys are
/// dropped, one warning says so, the store is not read from the cache at all, and the provider sweeps the store's key
/// prefix (<see cref="ICacheProvider.SweepAsync"/>) once it answers. Only a sweep that started after the last lost
/// invalidation counts. A provider that cannot sweep leaves the store bypassed until the longest entry lifetime this store
/// has written has passed since the last lost invalidation (every entry older than the loss has expired by then); with
/// entries that never expire, until the process restarts.</para>
/// </remarks>
internal sealed class InvalidationLedger<TKey> : IDisposable
    where TKey : notnull
{
    private static readonly TimeSpan SweepTimeout = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<TKey, long> _keys = new();
    private readonly string _keyPrefix;
    private readonly ICacheProvider _provider;
    private readonly CacheResiliencePipeline _pipeline;
    private readonly StrategyInstruments _instruments;
    private readonly Func<TKey, ValueTask> _invalidate;
    private readonly int _max;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retryInterval;
    private readonly LedgerReplayer _replayer;
    private readonly LogRateLimiter _sweepLog;
    private readonly LedgerOverflow _overflow;
    private long _generation;
    private long _replayed;

    // The hit path's check. ConcurrentDictionary.IsEmpty takes every lock of an empty dictionary, so concurrent hits
    // contended on it; this flag is set after a key is added and cleared only when the dictionary is seen empty.
    private volatile bool _mayHaveKeys;

    public InvalidationLedger(
        string keyPrefix,
        ICacheProvider provider,
        CacheResiliencePipeline pipeline,
        StrategyInstruments instruments,
        int max,
        TimeSpan retryInterval,
        Func<TKey, ValueTask> invalidate)
    {
        _keyPrefix = keyPrefix;
        _provider = provider;
        _pipeline = pipeline;
        _instruments = instruments;
        _invalidate = invalidate;
        _max = max;
        _time = pipeline.Time;
        _retryInterval = retryInterval;
        _overflow = new LedgerOverflow(_time);
        _sweepLog = new LogRateLimiter(_time, LogRateLimiter.DefaultInterval);
        _replayer = new LedgerReplayer(pipeline, retryInterval, ReplayPendingAsync, () => IsEmpty);
    }

    /// <summary>Gets a value indicating whether nothing is pending (the hit path's only check).</summary>
    public bool IsEmpty => !_mayHaveKeys && !_overflow.IsOverflowed;

    /// <summary>Gets how many keys wait for a replay.</summary>
    public int Count => _keys.Count;

    /// <summary>Gets a value indicating whether the ledger overflowed and the store is bypassed until a sweep (or expiry) accounts for it.</summary>
    public bool Overflowed => _overflow.IsOverflowed;

    /// <summary>Gets how many keys were replayed successfully so far.</summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Gets how many sweeps completed so far.</summary>
    public int Sweeps { get; private set; }

    /// <summary>Whether a read or fill of this key must skip the cache.</summary>
    public bool Blocks(TKey key) => _overflow.IsOverflowed || (_mayHaveKeys && _keys.ContainsKey(key));

    /// <summary>Remembers a key whose invalidation may not have reached the provider.</summary>
    public void Remember(TKey key, ProviderFailure cause)
    {
        if (_overflow.IsOverflowed)
        {
            _overflow.NoteLoss();
        }
        else if (_keys.Count >= _max)
        {
            _overflow.Enter();
            _keys.Clear();
            Log.LedgerOverflowed(_instruments.Logger, _instruments.Name, _max, _provider.CanSweep
                ? $"the cache is not read for this strategy until every key of its prefix '{_keyPrefix}' has been invalidated on the provider (a sweep, run once it answers)."
                : $"the provider '{_provider.Name}' cannot sweep, so the cache is not read for this strategy until every entry written before the loss has expired ({_overflow.DescribeLifetime("entries")}).");
        }
        else
        {
            _keys[key] = Interlocked.Increment(ref _generation);
            _mayHaveKeys = true;
        }

        _instruments.InvalidationDeferred(ProviderFailure.Describe(cause.Reason), _keys.Count);
        _replayer.Arm();
    }

    /// <summary>Gets the generation of the last remembered key: read before a call whose success may settle a key (<see cref="Forget"/>).</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// An invalidation (or a set) of the key that started at <paramref name="startedAt"/> (<see cref="Generation"/> then)
    /// reached the provider: a loss remembered before it started is settled. A loss remembered after it started stays
    /// pending: this call may have been applied before that loss's database write (its reply arriving late), so it proves
    /// nothing about it; the replay settles it.
    /// </summary>
    public void Forget(TKey key, long startedAt)
    {
        if (_mayHaveKeys && _keys.TryGetValue(key, out var generation) && generation <= startedAt
            && _keys.TryRemove(new KeyValuePair<TKey, long>(key, generation)))
        {
            RefreshMayHaveKeys();
        }
    }

    /// <summary>Notes the lifetime of an entry this store writes (the bound of a sweep-less overflow).</summary>
    public void NoteLifetime(StoreEntryOptions options) => _overflow.NoteLifetime(options);

    /// <summary>Retries one pending key now (a read of it waits); false if it still cannot be invalidated.</summary>
    public async ValueTask<bool> TryReplayAsync(TKey key)
    {
        if (_overflow.IsOverflowed)
        {
            return false;
        }

        if (!_keys.TryGetValue(key, out var generation))
        {
            return true;
        }

        if (!await TryInvalidateAsync(key).ConfigureAwait(false))
        {
            return false;
        }

        Done(key, generation);
        return true;
    }

    /// <summary>Replays every pending key, and sweeps after an overflow; one run at a time, no exception escapes.</summary>
    public Task ReplayAsync() => _replayer.RunAsync();

    public void Dispose() => _replayer.Dispose();

    /// <summary>One replay (<see cref="LedgerReplayer"/> runs one at a time).</summary>
    private async Task ReplayPendingAsync()
    {
        var replayed = 0;
        foreach (var (key, generation) in _keys.ToArray())
        {
            if (!await TryInvalidateAsync(key).ConfigureAwait(false))
            {
                // Still failing (or the circuit is open): the timer tries again; one failure is enough to tell.
                break;
            }

            Done(key, generation);
            replayed++;
        }

        if (replayed > 0)
        {
            Log.LedgerReplayed(_instruments.Logger, _instruments.Name, replayed);
        }

        if (_overflow.IsOverflowed)
        {
            await SettleOverflowAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Ends an overflow: by a sweep that started after the last loss, or, without a sweep, by expiry.</summary>
    private async Task SettleOverflowAsync()
    {
        var started = _time.GetTimestamp();
        var lastLoss = _overflow.LastLoss;
        if (!_provider.CanSweep)
        {
            if (_overflow.ExpiredSince(lastLoss, started))
            {
                _overflow.TryEnd(lastLoss);
                Log.LedgerExpiredOut(_instruments.Logger, _instruments.Name);
            }

            return;
        }

        try
        {
            // Through the breaker: skipped while the circuit is open, and the probe that closes it once the break is over.
            var count = await _pipeline.ExecuteLongAsync(
                static (s, ct) => s.Provider.SweepAsync(s.Prefix, ct),
                (Provider: _provider, Prefix: _keyPrefix),
                SweepTimeout,
                CancellationToken.None).ConfigureAwait(false);

            // Only a sweep that started after the last lost invalidation has seen every key it may have left stale.
            if (lastLoss < started && _overflow.TryEnd(lastLoss))
            {
                Sweeps++;
                Log.LedgerSwept(_instruments.Logger, _instruments.Name, _keyPrefix, count);
            }
        }
        catch (CacheCircuitOpenException)
        {
            // Not tried: the timer comes back.
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            if (_sweepLog.TryAcquire(out var suppressed))
            {
                Log.LedgerSweepFailed(_instruments.Logger, _instruments.Name, _keyPrefix, _retryInterval, suppressed, _sweepLog.Interval, ex);
            }
        }
    }

    private async ValueTask<bool> TryInvalidateAsync(TKey key)
    {
        try
        {
            await _invalidate(key).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _instruments.ProviderError("invalidate", ex);
            return false;
        }
    }

    private void Done(TKey key, long generation)
    {
        // A failure remembered again while the replay was on its way keeps the key pending.
        if (_keys.TryRemove(new KeyValuePair<TKey, long>(key, generation)))
        {
            Interlocked.Increment(ref _replayed);
            RefreshMayHaveKeys();
        }
    }

    private void RefreshMayHaveKeys()
    {
        // Cleared first, then checked, with a full fence between: a key remembered meanwhile sets it again.
        _mayHaveKeys = false;
        Interlocked.MemoryBarrier();
        if (!_keys.IsEmpty)
        {
            _mayHaveKeys = true;
        }
    }
}
