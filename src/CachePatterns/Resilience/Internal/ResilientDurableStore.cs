using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The store semantics over a provider's store (docs/architecture.md, "Cache or store"): the provider holds the only
/// copy, so a failure is never turned into a miss or a delete. Every call runs under the timeout and circuit breaker of
/// its own <see cref="CacheResiliencePipeline"/>; a call that fails or times out is retried up to <c>MaxAttempts</c>
/// times (a write with the same <see cref="CacheWriteId"/>, so the provider applies it at most once) and then throws
/// <see cref="CacheUnavailableException"/>. An open circuit throws it at once, without sending anything.
/// </summary>
/// <remarks>
/// Unlike <see cref="ResilientCacheStore{TKey, TValue}"/> nothing is remembered: a remembered invalidation, replayed
/// after a stall, would delete the value a later write stored (a whole session, on every instance).
/// </remarks>
internal sealed class ResilientDurableStore<TKey, TValue>
    where TKey : notnull
{
    private readonly ICacheStore<TKey, TValue> _inner;
    private readonly CacheResiliencePipeline? _pipeline;
    private readonly StrategyInstruments _instruments;
    private readonly string _cacheName;
    private readonly int _maxAttempts;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;

    /// <param name="inner">The provider's store.</param>
    /// <param name="pipeline">The timeout and breaker; <see langword="null"/> for an in-process provider (called directly).</param>
    /// <param name="instruments">Counts failures; its logger logs them.</param>
    /// <param name="cacheName">The named cache, for the exception.</param>
    /// <param name="maxAttempts">Attempts per call before it throws.</param>
    /// <param name="retryDelay">The pause before the second attempt, doubled for each further one.</param>
    /// <param name="time">The clock of the pauses.</param>
    public ResilientDurableStore(
        ICacheStore<TKey, TValue> inner,
        CacheResiliencePipeline? pipeline,
        StrategyInstruments instruments,
        string cacheName,
        int maxAttempts,
        TimeSpan retryDelay,
        TimeProvider time)
    {
        _inner = inner;
        _pipeline = pipeline;
        _instruments = instruments;
        _cacheName = cacheName;
        _maxAttempts = maxAttempts;
        _retryDelay = retryDelay;
        _time = time;
    }

    /// <summary>Reads a key: its value, or <see cref="CacheValue{TValue}.NotFound"/> when absent (renews sliding expiration).</summary>
    /// <exception cref="CacheUnavailableException">The provider could not say.</exception>
    public async ValueTask<CacheValue<TValue>> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        var lookup = await RunAsync(
            "get",
            static (s, ct) => s.Inner.GetAsync(s.Key, acquireLease: false, ct),
            (Inner: _inner, Key: key),
            cancellationToken).ConfigureAwait(false);
        return lookup.Status switch
        {
            CacheLookupStatus.Hit => lookup.Value,

            // The provider itself declined to answer for this key (e.g. its own list of unreplayed invalidations).
            CacheLookupStatus.Unavailable => throw Unavailable("get", 1, new InvalidOperationException("The provider reported the key as unavailable.")),

            // Expired (kept only for stale serving, which a store does not do), or absent.
            _ => CacheValue<TValue>.NotFound,
        };
    }

    /// <summary>Stores a value; retried with one write id.</summary>
    /// <exception cref="CacheUnavailableException">No attempt was confirmed.</exception>
    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken) =>
        await RunAsync(
            "set",
            static (s, ct) => s.Inner.StoreAsync(s.Key, s.Value, s.Options, s.Id, ct),
            (Inner: _inner, Key: key, Value: value, Options: options, Id: CacheWriteId.New()),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Removes a key; retried with one write id.</summary>
    /// <exception cref="CacheUnavailableException">No attempt was confirmed.</exception>
    public async ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken) =>
        await RunAsync(
            "remove",
            static (s, ct) => s.Inner.DeleteAsync(s.Key, s.Id, ct),
            (Inner: _inner, Key: key, Id: CacheWriteId.New()),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Renews a key's sliding expiration.</summary>
    /// <exception cref="CacheUnavailableException">No attempt was confirmed.</exception>
    public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) =>
        await RunAsync(
            "refresh",
            static async (s, ct) =>
            {
                await s.Inner.RefreshAsync(s.Key, ct).ConfigureAwait(false);
                return true;
            },
            (Inner: _inner, Key: key),
            cancellationToken).ConfigureAwait(false);

    private static bool IsProviderFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not ArgumentException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private async ValueTask<TResult> RunAsync<TState, TResult>(
        string operation,
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        if (_pipeline is null)
        {
            return await call(state, cancellationToken).ConfigureAwait(false);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await _pipeline.ExecuteAsync(call, state, cancellationToken).ConfigureAwait(false);
            }
            catch (CacheCircuitOpenException ex)
            {
                // Failing fast is allowed; silently dropping the call is not. Only counted: the opening was logged once.
                _instruments.CountProviderError(operation);
                throw Unavailable(operation, attempt - 1, ex);
            }
            catch (Exception ex) when (IsProviderFailure(ex, cancellationToken))
            {
                _instruments.CountProviderError(operation);
                if (attempt >= _maxAttempts)
                {
                    Log.StoreCallFailed(_instruments.Logger, _instruments.Name, operation, attempt, ex);
                    throw Unavailable(operation, attempt, ex);
                }

                Log.StoreAttemptFailed(_instruments.Logger, _instruments.Name, operation, attempt, ex);
                var delay = _retryDelay * (1 << (attempt - 1));
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private CacheUnavailableException Unavailable(string operation, int attempts, Exception cause) =>
        new(_cacheName, operation, attempts, cause);
}
