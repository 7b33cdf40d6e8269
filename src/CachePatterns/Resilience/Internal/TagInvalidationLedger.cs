using System.Collections.Concurrent;
using CachePatterns.Diagnostics;
using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The one record of tag invalidations that may not have reached the provider, for one named cache (a tag's scope: every
/// owner's entries). While anything is pending, no store of the named cache reads the provider (a lookup is
/// <see cref="CacheLookupStatus.Unavailable"/>: no hit, no lease, no fill) and the near cache holds nothing, so no entry
/// carrying the tag is served from any level; the reads load from the source (docs/architecture.md, "The tag ledger").
/// </summary>
/// <remarks>
/// <para>Why the whole named cache and not only the entries carrying the tag: a lookup does not say which tags its hit
/// carries (Redis checks them inside its read script), and a tag invalidation fails only when the provider does, so reads
/// are <see cref="CacheLookupStatus.Unavailable"/> anyway for most of the time a tag is pending. The replay runs as soon
/// as the provider answers again.</para>
/// <para>Replayed when the provider answers again (<see cref="CacheResiliencePipeline.ProviderBack"/>) and by a timer
/// while anything is pending. A later successful invalidation of the tag also settles it.</para>
/// <para>Bounded by <see cref="CacheResilienceOptions.MaxPendingInvalidations"/>. Overflow is never silent: the tags are
/// dropped, one warning says so, the named cache stays bypassed, and once the provider answers every key prefix of its
/// stores is swept (<see cref="ICacheProvider.SweepAsync"/>); only sweeps that started after the last lost invalidation
/// count. A provider that cannot sweep leaves the cache bypassed until the longest lifetime of a tagged entry written by
/// this process has passed since the last loss; with tagged entries that never expire, until the process restarts.</para>
/// </remarks>
internal sealed class TagInvalidationLedger : IDisposable
{
    private static readonly TimeSpan SweepTimeout = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, long> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _prefixes = new(StringComparer.Ordinal);
    private readonly string _cacheName;
    private readonly ICacheProvider _provider;
    private readonly CacheResiliencePipeline _pipeline;
    private readonly CacheTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Action<string>? _replayed;
    private readonly int _max;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retryInterval;
    private readonly LedgerReplayer _replayer;
    private readonly LogRateLimiter _deferredLog;
    private readonly LogRateLimiter _sweepLog;
    private readonly KeyValuePair<string, object?> _cacheTag;
    private readonly LedgerOverflow _overflow;
    private long _generation;
    private long _replayedCount;

    // The read path's only check: set once a tag is added (after it is), cleared only when nothing is seen pending.
    private volatile bool _bypass;

    /// <summary>Creates the ledger of a named cache; <paramref name="replayed"/> runs for each tag whose pending invalidation reached the provider (the near cache drops the tag's copies).</summary>
    public TagInvalidationLedger(
        string cacheName,
        ICacheProvider provider,
        CacheResiliencePipeline pipeline,
        CacheTelemetry telemetry,
        ILogger logger,
        int max,
        TimeSpan retryInterval,
        Action<string>? replayed)
    {
        _cacheName = cacheName;
        _provider = provider;
        _pipeline = pipeline;
        _telemetry = telemetry;
        _logger = logger;
        _replayed = replayed;
        _max = max;
        _time = pipeline.Time;
        _retryInterval = retryInterval;
        _overflow = new LedgerOverflow(_time);
        _deferredLog = new LogRateLimiter(_time, LogRateLimiter.DefaultInterval);
        _sweepLog = new LogRateLimiter(_time, LogRateLimiter.DefaultInterval);
        _cacheTag = new KeyValuePair<string, object?>(CacheDiagnostics.CacheTag, cacheName);
        _replayer = new LedgerReplayer(pipeline, retryInterval, ReplayPendingAsync, () => IsEmpty);
    }

    /// <summary>Gets a value indicating whether nothing is pending (the read path's only check: one volatile read).</summary>
    public bool IsEmpty => !_bypass;

    /// <summary>Gets how many tags wait for a replay.</summary>
    public int Count => _tags.Count;

    /// <summary>Gets a value indicating whether the ledger overflowed (the cache is bypassed until a sweep or expiry accounts for it).</summary>
    public bool Overflowed => _overflow.IsOverflowed;

    /// <summary>Gets how many tag invalidations were replayed successfully so far.</summary>
    public long Replayed => Interlocked.Read(ref _replayedCount);

    /// <summary>Gets how many overflows were settled by sweeps so far.</summary>
    public int Sweeps { get; private set; }

    /// <summary>Whether a tag is pending (tests).</summary>
    public bool IsPending(string tag) => _tags.ContainsKey(tag);

    /// <summary>Registers the key prefix of a store of the named cache: swept after an overflow.</summary>
    public void AddKeyPrefix(string keyPrefix) => _prefixes.TryAdd(keyPrefix, 0);

    /// <summary>Notes the lifetime of a tagged entry a store writes (the bound of a sweep-less overflow).</summary>
    public void NoteLifetime(StoreEntryOptions options)
    {
        if (options.Tags is { Count: > 0 })
        {
            _overflow.NoteLifetime(options);
        }
    }

    /// <summary>Remembers a tag whose invalidation may not have reached the provider (failed, timed out, skipped, cancelled).</summary>
    public void Remember(string tag, Exception cause)
    {
        _overflow.NoteLoss();
        if (!_overflow.IsOverflowed)
        {
            if (_tags.Count >= _max && !_tags.ContainsKey(tag))
            {
                _overflow.Enter();
                _tags.Clear();
                Log.TagLedgerOverflowed(_logger, _max, _cacheName, _provider.CanSweep
                    ? "every key prefix of its stores is swept once the provider answers; until then the cache is not read."
                    : $"the provider '{_provider.Name}' cannot sweep, so the cache is not read until every tagged entry written before the loss has expired ({_overflow.DescribeLifetime("tagged entries")}).");
            }
            else
            {
                _tags[tag] = Interlocked.Increment(ref _generation);
            }
        }

        _bypass = true;
        _telemetry.InvalidationsDeferred.Add(1, _cacheTag, new KeyValuePair<string, object?>("kind", "tag"));
        if (_deferredLog.TryAcquire(out var suppressed))
        {
            Log.TagInvalidationDeferred(_logger, tag, _cacheName, ProviderFailure.Describe(ProviderFailure.Classify(cause).Reason), suppressed, _deferredLog.Interval, _tags.Count);
        }

        _replayer.Arm();
    }

    /// <summary>
    /// An invalidation of the tag that started at <paramref name="startedAt"/> (<see cref="Generation"/> then) reached the
    /// provider: a loss remembered before it started is settled. One remembered after it started stays pending: this
    /// invalidation may have been applied before that loss's database write (its reply arriving late), so the replay
    /// settles it.
    /// </summary>
    public void Forget(string tag, long startedAt)
    {
        if (_bypass && _tags.TryGetValue(tag, out var generation) && generation <= startedAt
            && _tags.TryRemove(new KeyValuePair<string, long>(tag, generation)))
        {
            RefreshBypass();
        }
    }

    /// <summary>Gets the generation of the last remembered tag: read before an invalidation whose success may settle a tag (<see cref="Forget"/>).</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Replays every pending tag, and sweeps after an overflow; one run at a time, no exception escapes.</summary>
    public Task ReplayAsync() => _replayer.RunAsync();

    /// <summary>
    /// A read skipped the provider because something is pending: try the replay now (in the background, one run at a
    /// time) unless the circuit is open (then the provider's return starts it), so a process that keeps reading uses the
    /// cache again one round trip after the provider answers, instead of at the next timer tick.
    /// </summary>
    public void OnBypassedRead()
    {
        if (!_replayer.IsReplaying && !_pipeline.IsCircuitOpen)
        {
            _ = ReplayAsync();
        }
    }

    public void Dispose() => _replayer.Dispose();

    /// <summary>One replay (<see cref="LedgerReplayer"/> runs one at a time).</summary>
    private async Task ReplayPendingAsync()
    {
        List<string>? replayed = null;
        foreach (var (tag, generation) in _tags.ToArray())
        {
            if (!await TryInvalidateAsync(tag).ConfigureAwait(false))
            {
                // Still failing (or the circuit is open): the timer tries again; one failure is enough to tell.
                break;
            }

            // A failure remembered again while the replay was on its way keeps the tag pending.
            if (_tags.TryRemove(new KeyValuePair<string, long>(tag, generation)))
            {
                Interlocked.Increment(ref _replayedCount);
                (replayed ??= []).Add(tag);
            }
        }

        if (_overflow.IsOverflowed)
        {
            await SettleOverflowAsync().ConfigureAwait(false);
        }

        if (replayed is not null)
        {
            // After the provider's change: copies of the tag this process made before it go (none should exist: reads
            // were bypassed).
            foreach (var tag in replayed)
            {
                _replayed?.Invoke(tag);
            }

            Log.TagLedgerReplayed(_logger, replayed.Count, _cacheName);
        }

        RefreshBypass();
    }

    private void RefreshBypass()
    {
        // Cleared only when nothing is seen pending, then checked again with a full fence between: a tag remembered
        // meanwhile sets it again (Remember adds the tag before it sets the flag). A pending tag never lets it read false.
        if (!_tags.IsEmpty || _overflow.IsOverflowed)
        {
            return;
        }

        _bypass = false;
        Interlocked.MemoryBarrier();
        if (!_tags.IsEmpty || _overflow.IsOverflowed)
        {
            _bypass = true;
        }
    }

    private async ValueTask<bool> TryInvalidateAsync(string tag)
    {
        try
        {
            await _pipeline.ExecuteAsync(static (s, ct) => s.Provider.InvalidateTagAsync(s.Tag, ct), (Provider: _provider, Tag: tag), CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _telemetry.ProviderErrors.Add(1, _cacheTag, new KeyValuePair<string, object?>("operation", "invalidate-tag"));
            return false;
        }
    }

    /// <summary>Ends an overflow: by sweeps of every store's prefix that started after the last loss, or, without sweeps, by expiry.</summary>
    private async Task SettleOverflowAsync()
    {
        var started = _time.GetTimestamp();
        var lastLoss = _overflow.LastLoss;
        if (!_provider.CanSweep)
        {
            if (_overflow.ExpiredSince(lastLoss, started) && _overflow.TryEnd(lastLoss))
            {
                Log.TagLedgerExpiredOut(_logger, _cacheName);
            }

            return;
        }

        long count = 0;
        foreach (var prefix in _prefixes.Keys)
        {
            try
            {
                // Through the breaker: skipped while the circuit is open, and the probe that closes it once the break is over.
                count += await _pipeline.ExecuteLongAsync(
                    static (s, ct) => s.Provider.SweepAsync(s.Prefix, ct),
                    (Provider: _provider, Prefix: prefix),
                    SweepTimeout,
                    CancellationToken.None).ConfigureAwait(false);
            }
            catch (CacheCircuitOpenException)
            {
                return;
            }
            catch (Exception ex) when (ex is not ArgumentException)
            {
                if (_sweepLog.TryAcquire(out var suppressed))
                {
                    Log.TagLedgerSweepFailed(_logger, _cacheName, prefix, _retryInterval, suppressed, _sweepLog.Interval, ex);
                }

                return;
            }
        }

        // Only sweeps that started after the last lost invalidation have seen every entry it may have left stale.
        if (lastLoss < started && _overflow.TryEnd(lastLoss))
        {
            Sweeps++;
            Log.TagLedgerSwept(_logger, _cacheName, _prefixes.Count, count);
        }
    }
}
