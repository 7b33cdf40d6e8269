using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// Wraps an out-of-process store: every call goes through the cache's timeout and circuit breaker, and a failure
/// becomes a miss (reads), a refused fill, or an entry in the <see cref="InvalidationLedger{TKey}"/> (writes) instead of
/// an exception. What a failure means is decided by <see cref="ProviderFailure.Classify"/>, nowhere else.
/// </summary>
/// <remarks>
/// A full server (<see cref="CacheProviderFailureReason.ServerFull"/>) is not an outage: the refused write is counted
/// (<c>cachepatterns.writes.refused</c>) and logged once per interval, a refused set or write completion removes the key
/// instead (removals work on a full server), and reads keep using the cache.
/// </remarks>
internal sealed partial class ResilientCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>, IDisposable
    where TKey : notnull
{
    private readonly ICacheStore<TKey, TValue> _inner;
    private readonly CacheResiliencePipeline _pipeline;
    private readonly StrategyInstruments _instruments;
    private readonly InvalidationLedger<TKey> _ledger;
    private readonly TagInvalidationLedger? _tags;

    public ResilientCacheStore(
        ICacheStore<TKey, TValue> inner,
        ICacheProvider provider,
        string keyPrefix,
        CacheResiliencePipeline pipeline,
        StrategyInstruments instruments,
        int maxPending,
        TimeSpan retryInterval,
        TagInvalidationLedger? tags = null)
    {
        _inner = inner;
        _tags = tags;
        _pipeline = pipeline;
        _instruments = instruments;
        _ledger = new InvalidationLedger<TKey>(keyPrefix, provider, pipeline, instruments, maxPending, retryInterval, key => InvalidateCoreAsync(key, CancellationToken.None));
    }

    /// <summary>Gets the ledger of invalidations that may not have reached the provider (tests).</summary>
    internal InvalidationLedger<TKey> Ledger => _ledger;

    internal int PendingInvalidations => _ledger.Count;

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        if (!_ledger.IsEmpty && _ledger.Blocks(key))
        {
            return GetPendingKeyAsync(key, acquireLease, cancellationToken);
        }

        if (TagsPending)
        {
            // A tag invalidation of this cache has not reached the provider: any hit may carry that tag.
            _tags!.OnBypassedRead();
            return new(CacheLookup<TValue>.Unavailable);
        }

        // No state machine of its own: on a closed circuit a remote hit is the pipeline's one call.
        return _pipeline.ExecuteOrFallbackAsync(
            static (s, ct) => s.Self._inner.GetAsync(s.Key, s.AcquireLease, ct),
            static (s, ex) =>
            {
                s.Self.Failed(s.AcquireLease ? "get-lease" : "get", ex);
                return CacheLookup<TValue>.Unavailable;
            },
            (Self: this, Key: key, AcquireLease: acquireLease),
            cancellationToken);
    }

    /// <summary>A key whose invalidation has not reached the provider yet: retried first, the cache skipped if it fails.</summary>
    private async ValueTask<CacheLookup<TValue>> GetPendingKeyAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        if (!await _ledger.TryReplayAsync(key).ConfigureAwait(false))
        {
            return CacheLookup<TValue>.Unavailable;
        }

        return await GetAsync(key, acquireLease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        if (TagsPending)
        {
            _tags!.OnBypassedRead();
            return Enumerable.Repeat(CacheLookup<TValue>.Unavailable, keys.Count).ToArray();
        }

        CacheLookup<TValue>[] results;
        try
        {
            results = await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.GetManyAsync(s.Keys, s.AcquireLeases, ct),
                (Inner: _inner, Keys: keys, AcquireLeases: acquireLeases),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            Failed("get-many", ex);
            return Enumerable.Repeat(CacheLookup<TValue>.Unavailable, keys.Count).ToArray();
        }

        if (!_ledger.IsEmpty)
        {
            for (var i = 0; i < results.Length; i++)
            {
                if (_ledger.Blocks(keys[i]) && !await _ledger.TryReplayAsync(keys[i]).ConfigureAwait(false))
                {
                    await ReleaseLeaseAsync(keys[i], results[i].Lease, CancellationToken.None).ConfigureAwait(false);
                    results[i] = CacheLookup<TValue>.Unavailable;
                }
            }
        }

        return results;
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        NoteLifetime(options);
        if ((!_ledger.IsEmpty && _ledger.Blocks(key)) || TagsPending)
        {
            // A lease taken before an invalidation that has not reached the provider would store the older value.
            await ReleaseLeaseAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
            return false;
        }

        try
        {
            return await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.FillAsync(s.Key, s.Lease, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Lease: lease, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            if (Failed("fill", ex).Kind == ProviderFailureKind.Full)
            {
                // The fill was refused before it ran: give the lease back (a full server still takes removals).
                await ReleaseLeaseAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
            }

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
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            // A lease that cannot be given back expires on the server.
            Failed("release", ex);
        }
    }

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        NoteLifetime(options);
        var generation = _ledger.Generation;
        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.SetAsync(s.Key, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
            _ledger.Forget(key, generation);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            var failure = Failed("set", ex);
            if (failure.Kind == ProviderFailureKind.Full)
            {
                // Not stored: the older entry must not stay in its place.
                await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _ledger.Remember(key, failure);
            }
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
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            Failed("refresh", ex);
        }
    }

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        var generation = _ledger.Generation;
        try
        {
            await InvalidateCoreAsync(key, cancellationToken).ConfigureAwait(false);
            _ledger.Forget(key, generation);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            _ledger.Remember(key, Failed("invalidate", ex));
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
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            // The completion then only invalidates, which is remembered if it fails too.
            Failed("begin-write", ex);
            return CacheWriteToken.None;
        }
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        NoteLifetime(options);
        var generation = _ledger.Generation;
        try
        {
            var stored = await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.CompleteWriteAsync(s.Key, s.Token, s.Value, s.Options, ct),
                (Inner: _inner, Key: key, Token: token, Value: value, Options: options),
                cancellationToken).ConfigureAwait(false);
            _ledger.Forget(key, generation);
            return stored;
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            var failure = Failed("complete-write", ex);
            if (failure.Kind == ProviderFailureKind.Full)
            {
                // Not stored: end the write by removing the key (a full server still takes removals).
                await AbortWriteAsync(key, token, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _ledger.Remember(key, failure);
            }

            return false;
        }
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        var generation = _ledger.Generation;
        try
        {
            await _pipeline.ExecuteAsync(
                static (s, ct) => s.Inner.AbortWriteAsync(s.Key, s.Token, ct),
                (Inner: _inner, Key: key, Token: token),
                cancellationToken).ConfigureAwait(false);
            _ledger.Forget(key, generation);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            _ledger.Remember(key, Failed("abort-write", ex));
        }
    }

    /// <summary>Whether a tag invalidation of this cache is pending: the provider is not read (one volatile read).</summary>
    private bool TagsPending => _tags is { IsEmpty: false };

    private void NoteLifetime(StoreEntryOptions options)
    {
        _ledger.NoteLifetime(options);
        _tags?.NoteLifetime(options);
    }

    /// <summary>Retries every remembered invalidation (tests; the ledger also does it on its own).</summary>
    internal Task ReplayPendingAsync() => _ledger.ReplayAsync();

    public void Dispose() => _ledger.Dispose();

    /// <summary>A provider failure: anything but bad input and the caller's own cancellation.</summary>
    private static bool IsFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not ArgumentException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    /// <summary>Counts and logs a failed call by what it means.</summary>
    private ProviderFailure Failed(string operation, Exception exception)
    {
        var failure = ProviderFailure.Classify(exception);
        if (failure.Kind == ProviderFailureKind.Full)
        {
            _instruments.WriteRefused(operation);
        }
        else
        {
            _instruments.ProviderError(operation, exception);
        }

        return failure;
    }

    private ValueTask InvalidateCoreAsync(TKey key, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (s, ct) => s.Inner.InvalidateAsync(s.Key, ct),
            (Inner: _inner, Key: key),
            cancellationToken);
}
