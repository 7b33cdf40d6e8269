using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CachePatterns.Internal;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Resilience.Internal;

/// <summary>The timeout and circuit breaker shared by every store of one cache (one provider).</summary>
/// <remarks>
/// Every call runs under a pooled timeout source and its outcome goes to <see cref="CacheCircuitBreaker"/>. A remote
/// cache hit on a closed circuit costs one pooled state machine here, no allocation and no lock: running hits through
/// Polly's pipeline cost about 2 KB per call (the <c>redisalloc</c> benchmark mode), and handing outcomes to Polly's
/// breaker cost about 4 µs of CPU per hit under 64 concurrent callers (its locks; <c>redisthroughput</c>).
/// </remarks>
internal sealed class CacheResiliencePipeline
{
    private const int MaxPooledTimeoutSources = 256;

    private readonly string _cacheName;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<CancellationTokenSource> _timeoutSources = new();
    private readonly CacheCircuitBreaker _breaker;
    private readonly CacheCircuitOpenException _circuitOpen;

    public CacheResiliencePipeline(string cacheName, CacheResilienceOptions options, TimeProvider time, ILogger logger)
    {
        _cacheName = cacheName;
        _timeout = options.OperationTimeout;
        _time = time;
        _breaker = new CacheCircuitBreaker(options, time);
        _circuitOpen = new CacheCircuitOpenException(cacheName);
        _breaker.Opened += breakDuration => Log.CircuitOpened(logger, cacheName, breakDuration);
        _breaker.Closed += () =>
        {
            Log.CircuitClosed(logger, cacheName);
            CircuitClosed?.Invoke();
        };
    }

    /// <summary>Raised when the provider is healthy again, so remembered invalidations are replayed.</summary>
    public event Action? CircuitClosed;

    public bool IsCircuitOpen => _breaker.IsOpen;

    /// <summary>Runs one provider call under the timeout and the circuit breaker.</summary>
    /// <exception cref="TimeoutException">The provider did not answer within the operation timeout.</exception>
    /// <exception cref="CacheCircuitOpenException">The circuit is open.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken) =>
        ExecuteCoreAsync(call, fallback: null, state, cancellationToken);

    /// <summary>
    /// Runs one provider call like <see cref="ExecuteAsync{TState, TResult}"/>, but a provider failure (a timeout, an
    /// error, an open circuit; not bad input, not the caller's cancellation) returns <paramref name="fallback"/>'s
    /// result instead of throwing. This is the whole resilience layer of a remote cache hit: one state machine.
    /// </summary>
    public ValueTask<TResult> ExecuteOrFallbackAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        Func<TState, Exception, TResult> fallback,
        TState state,
        CancellationToken cancellationToken) =>
        ExecuteCoreAsync(call, fallback, state, cancellationToken);

    /// <summary>Runs one provider call without a result under the timeout and the circuit breaker.</summary>
    public async ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> call, TState state, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            static async (s, ct) =>
            {
                await s.Call(s.State, ct).ConfigureAwait(false);
                return true;
            },
            (Call: call, State: state),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A provider failure: an error or a timeout; not bad input (<see cref="ArgumentException"/>) and not a cancellation.</summary>
    private static bool IsProviderFailure(Exception exception) => exception is not ArgumentException and not OperationCanceledException;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ExecuteCoreAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        Func<TState, Exception, TResult>? fallback,
        TState state,
        CancellationToken cancellationToken)
    {
        if (!_breaker.TryAcquire(out var isProbe))
        {
            // The fallback only reads it (never throws it), so one instance serves every skipped call.
            return fallback is null ? throw new CacheCircuitOpenException(_cacheName) : fallback(state, _circuitOpen);
        }

        var timeout = StartTimeout(cancellationToken);
        TResult result;
        try
        {
            result = await call(state, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: that says nothing about the provider.
            _breaker.RecordAbandoned(isProbe);
            throw;
        }
        catch (Exception ex)
        {
            var failure = ex is OperationCanceledException && timeout.Token.IsCancellationRequested ? TimedOut() : ex;
            if (IsProviderFailure(failure))
            {
                _breaker.RecordFailure(isProbe);
            }
            else
            {
                _breaker.RecordSuccess(isProbe);
            }

            if (fallback is not null && failure is not ArgumentException)
            {
                return fallback(state, failure);
            }

            if (ReferenceEquals(failure, ex))
            {
                throw;
            }

            throw failure;
        }
        finally
        {
            timeout.Dispose();
        }

        _breaker.RecordSuccess(isProbe);
        return result;
    }

    /// <summary>Starts the operation timeout of one call, cancelled also when the caller cancels.</summary>
    private CallTimeout StartTimeout(CancellationToken cancellationToken)
    {
        var source = RentTimeoutSource();
        var link = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source)
            : default;
        return new CallTimeout(this, source, link);
    }

    private TimeoutException TimedOut() =>
        new($"The cache provider did not answer within the operation timeout of {_timeout.TotalMilliseconds:0} ms.");

    private CancellationTokenSource RentTimeoutSource()
    {
        if (_time != TimeProvider.System)
        {
            return new CancellationTokenSource(_timeout, _time);
        }

        if (!_timeoutSources.TryDequeue(out var source))
        {
            source = new CancellationTokenSource();
        }

        source.CancelAfter(_timeout);
        return source;
    }

    private void ReturnTimeoutSource(CancellationTokenSource source)
    {
        // TryReset stops the timer and fails once the source was cancelled; such a source is not reused.
        if (_time == TimeProvider.System && _timeoutSources.Count < MaxPooledTimeoutSources && source.TryReset())
        {
            _timeoutSources.Enqueue(source);
        }
        else
        {
            source.Dispose();
        }
    }

    /// <summary>One call's timeout: its pooled source and the link to the caller's token.</summary>
    private readonly struct CallTimeout(CacheResiliencePipeline owner, CancellationTokenSource source, CancellationTokenRegistration link) : IDisposable
    {
        public CancellationToken Token => source.Token;

        public void Dispose()
        {
            link.Dispose();
            owner.ReturnTimeoutSource(source);
        }
    }
}
