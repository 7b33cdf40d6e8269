using System.Collections.Concurrent;
using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// Wraps an out-of-process store: every call goes through the cache's timeout and circuit breaker, and a failure
/// becomes a miss (reads), a refused fill, or a remembered invalidation (writes) instead of an exception.
/// </summary>
/// <remarks>
/// A key whose invalidation failed is "pending": reads of it skip the cache (no lookup, no fill) until an
/// invalidation of it succeeds, retried on the next read of that key, when the circuit closes, and every
/// <c>BreakDuration</c> while any is pending (so an idle process also tells the provider once it is back, and other
/// processes stop seeing the old value). So a write that could not reach the cache never lets this process read the
/// older value once the provider is back.
/// </remarks>
internal sealed partial class ResilientCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>
    where TKey : notnull
{
    private readonly ICacheStore<TKey, TValue> _inner;
    private readonly CacheResiliencePipeline _pipeline;
    private readonly StrategyInstruments _instruments;
    private readonly int _maxPending;
    private readonly ConcurrentDictionary<TKey, byte> _pending = new();
    private readonly ITimer _retryTimer;
    private readonly TimeSpan _retryInterval;

    public ResilientCacheStore(ICacheStore<TKey, TValue> inner, CacheResiliencePipeline pipeline, StrategyInstruments instruments, int maxPending, TimeProvider time, TimeSpan retryInterval)
    {
        _inner = inner;
        _pipeline = pipeline;
        _instruments = instruments;
        _maxPending = maxPending;
        _retryInterval = retryInterval;
        _retryTimer = time.CreateTimer(static s => _ = ((ResilientCacheStore<TKey, TValue>)s!).ReplayPendingAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        pipeline.CircuitClosed += () => _ = ReplayPendingAsync();
    }

    internal int PendingInvalidations => _pending.Count;

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        // ContainsKey reads without locks; ConcurrentDictionary.IsEmpty takes every lock when the dictionary is empty,
        // which made every concurrent hit contend.
        if (_pending.ContainsKey(key))
        {
            return GetPendingKeyAsync(key, acquireLease, cancellationToken);
        }

        // No state machine of its own: on a closed circuit a remote hit is the pipeline's one call.
        return _pipeline.ExecuteOrFallbackAsync(
            static (s, ct) => s.Self._inner.GetAsync(s.Key, s.AcquireLease, ct),
            static (s, ex) =>
            {
                s.Self._instruments.ProviderError("get", ex);
                return CacheLookup<TValue>.Unavailable;
            },
            (Self: this, Key: key, AcquireLease: acquireLease),
            cancellationToken);
    }

    /// <summary>A key whose invalidation has not reached the provider yet: retried first, the cache skipped if it fails.</summary>
    private async ValueTask<CacheLookup<TValue>> GetPendingKeyAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        if (!await TryInvalidatePendingAsync(key).ConfigureAwait(false))
        {
            return CacheLookup<TValue>.Unavailable;
        }

        return await GetAsync(key, acquireLease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        CacheLookup<TValue>[] results;
        try
        {
            results = await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.GetManyAsync(s.Keys, s.AcquireLeases, ct),
                (Inner: _inner, Keys: keys, AcquireLeases: acquireLeases),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("get-many", ex);
            return Enumerable.Repeat(CacheLookup<TValue>.Unavailable, keys.Count).ToArray();
        }

        for (var i = 0; i < results.Length; i++)
        {
            if (_pending.ContainsKey(keys[i]))
            {
                await ReleaseLeaseAsync(keys[i], results[i].Lease, CancellationToken.None).ConfigureAwait(false);
                results[i] = CacheLookup<TValue>.Unavailable;
            }
        }

        return results;
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.FillAsync(s.Key, s.Lease, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Lease: lease, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("fill", ex);
            return false;
        }
    }

    public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (!lease.IsGranted)
        {
            return;
        }

        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.ReleaseLeaseAsync(s.Key, s.Lease, ct),
                (Inner: _inner, Key: key, Lease: lease),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            // A lease that cannot be given back expires on the server.
            _instruments.ProviderError("release", ex);
        }
    }

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.SetAsync(s.Key, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
            _pending.TryRemove(key, out _);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("set", ex);
            RememberPending(key, ex);
        }
    }

    public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.RefreshAsync(s.Key, ct),
                (Inner: _inner, Key: key),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("refresh", ex);
        }
    }

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        try
        {
            await InvalidateCoreAsync(key, cancellationToken).ConfigureAwait(false);
            _pending.TryRemove(key, out _);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("invalidate", ex);
            RememberPending(key, ex);
        }
    }

    public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.BeginWriteAsync(s.Key, ct),
                (Inner: _inner, Key: key),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            // The completion then only invalidates, which is remembered if it fails too.
            _instruments.ProviderError("begin-write", ex);
            return CacheWriteToken.None;
        }
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.CompleteWriteAsync(s.Key, s.Token, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Token: token, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
            _pending.TryRemove(key, out _);
            return stored;
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("complete-write", ex);
            RememberPending(key, ex);
            return false;
        }
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.AbortWriteAsync(s.Key, s.Token, ct),
                (Inner: _inner, Key: key, Token: token),
                cancellationToken).ConfigureAwait(false);
            _pending.TryRemove(key, out _);
        }
        catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
        {
            _instruments.ProviderError("abort-write", ex);
            RememberPending(key, ex);
        }
    }

    /// <summary>Retries every remembered invalidation; called when the circuit closes.</summary>
    internal async Task ReplayPendingAsync()
    {
        foreach (var key in _pending.Keys)
        {
            if (!await TryInvalidatePendingAsync(key).ConfigureAwait(false))
            {
                // Still failing (or the circuit is open): the timer tries again; one failure is enough to tell.
                return;
            }
        }

        if (_pending.IsEmpty)
        {
            _retryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

            // A key remembered while the timer was being stopped keeps it running.
            if (!_pending.IsEmpty)
            {
                _retryTimer.Change(_retryInterval, _retryInterval);
            }
        }
    }

    private static bool IsProviderFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not ArgumentException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ValueTask InvalidateCoreAsync(TKey key, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (s, ct) => s.Inner.InvalidateAsync(s.Key, ct),
            (Inner: _inner, Key: key),
            cancellationToken);

    private async ValueTask<bool> TryInvalidatePendingAsync(TKey key)
    {
        try
        {
            await InvalidateCoreAsync(key, CancellationToken.None).ConfigureAwait(false);
            _pending.TryRemove(key, out _);
            return true;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _instruments.ProviderError("invalidate", ex);
            return false;
        }
    }

    private void RememberPending(TKey key, Exception ex)
    {
        if (_pending.Count < _maxPending)
        {
            _pending.TryAdd(key, 0);
            Log.InvalidationDeferred(_instruments.Logger, _instruments.Name, ex);
            _retryTimer.Change(_retryInterval, _retryInterval);
        }
    }
}
