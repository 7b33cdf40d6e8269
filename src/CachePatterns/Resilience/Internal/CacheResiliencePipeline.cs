using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CachePatterns.Internal;
using CachePatterns.Providers;
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
    private readonly ILogger _logger;
    private readonly int _consecutiveTimeoutsToOpen;
    private volatile LastFailure? _lastFailure;
    private long _lastFullAt = long.MinValue;

    public CacheResiliencePipeline(string cacheName, CacheResilienceOptions options, TimeProvider time, ILogger logger)
    {
        _cacheName = cacheName;
        _timeout = options.OperationTimeout;
        _time = time;
        _logger = logger;
        _consecutiveTimeoutsToOpen = options.ConsecutiveTimeoutsToOpen;
        _breaker = new CacheCircuitBreaker(options, time);
        _circuitOpen = new CacheCircuitOpenException(cacheName);
        _breaker.Opened += OnOpened;
        _breaker.Closed += () =>
        {
            Log.CircuitClosed(logger, cacheName);
            ProviderBack?.Invoke();
        };
    }

    /// <summary>
    /// Raised when the provider answers again: the circuit closed after a successful probe, or the provider reported its
    /// connection restored. Remembered invalidations are replayed then.
    /// </summary>
    public event Action? ProviderBack;

    public bool IsCircuitOpen => _breaker.IsOpen;

    /// <summary>Gets the last provider failure seen (reason, message, when), for the health check; null if none yet.</summary>
    public LastFailure? LastProviderFailure => _lastFailure;

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last write a full provider refused.</summary>
    public long LastFullAt => Interlocked.Read(ref _lastFullAt);

    /// <summary>Gets the clock of the pipeline.</summary>
    public TimeProvider Time => _time;

    /// <summary>
    /// Takes the provider's own word on its connection: "lost" opens the circuit now (a hung server is cut off without
    /// waiting for timeouts), "restored" lets the next call probe now and replays remembered invalidations. Signals about
    /// one node leave the whole cache's circuit alone.
    /// </summary>
    public void OnConnectionChanged(CacheConnectionChangedEventArgs change)
    {
        if (change.Node is not null)
        {
            if (change.State == CacheConnectionState.Restored)
            {
                ProviderBack?.Invoke();
            }

            return;
        }

        if (change.State == CacheConnectionState.Lost)
        {
            var reason = change.Reason ?? CacheProviderFailureReason.ConnectionFailed;
            _lastFailure = new LastFailure(reason, ProviderFailure.Describe(reason), _time.GetTimestamp());
            _breaker.Trip();
        }
        else
        {
            _breaker.ProbeNow();
            ProviderBack?.Invoke();
        }
    }

    /// <summary>Runs one provider call under the timeout and the circuit breaker.</summary>
    /// <exception cref="TimeoutException">The provider did not answer within the operation timeout.</exception>
    /// <exception cref="CacheCircuitOpenException">The circuit is open.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken) =>
        ExecuteCoreAsync(call, fallback: null, state, timeout: null, cancellationToken);

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
        ExecuteCoreAsync(call, fallback, state, timeout: null, cancellationToken);

    /// <summary>
    /// Runs one long provider operation (a sweep) under the circuit breaker with its own <paramref name="timeout"/> instead
    /// of the operation timeout. Skipped (<see cref="CacheCircuitOpenException"/>) while the circuit is open; when the break
    /// is over it is the probe, so its success closes the circuit.
    /// </summary>
    public ValueTask<TResult> ExecuteLongAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        TimeSpan timeout,
        CancellationToken cancellationToken) =>
        ExecuteCoreAsync(call, fallback: null, state, timeout, cancellationToken);

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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ExecuteCoreAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        Func<TState, Exception, TResult>? fallback,
        TState state,
        TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        if (!_breaker.TryAcquire(out var isProbe))
        {
            // The fallback only reads it (never throws it), so one instance serves every skipped call.
            return fallback is null ? throw new CacheCircuitOpenException(_cacheName) : fallback(state, _circuitOpen);
        }

        var callTimeout = StartTimeout(timeout, cancellationToken);
        TResult result;
        try
        {
            result = await call(state, callTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: that says nothing about the provider.
            _breaker.RecordAbandoned(isProbe);
            throw;
        }
        catch (Exception ex)
        {
            // A provider that knows which node timed out (Redis Cluster) says so in the cancellation's inner exception.
            var failure = ex is OperationCanceledException && callTimeout.Token.IsCancellationRequested
                ? ex.InnerException as CacheProviderException is { Node: not null } nodeTimeout ? nodeTimeout : TimedOut()
                : ex;
            var kind = Record(failure, isProbe);
            if (fallback is not null && kind != ProviderFailureKind.BadInput)
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
            callTimeout.Dispose();
        }

        _breaker.RecordSuccess(isProbe);
        return result;
    }

    /// <summary>Feeds one failed call to the breaker by what it means (<see cref="ProviderFailure.Classify"/>).</summary>
    private ProviderFailureKind Record(Exception failure, bool isProbe)
    {
        var classified = ProviderFailure.Classify(failure);
        switch (classified.Kind)
        {
            case ProviderFailureKind.BadInput:
                _breaker.RecordSuccess(isProbe);
                break;
            case ProviderFailureKind.Full:
                // The server answered: it is up, only out of memory.
                Interlocked.Exchange(ref _lastFullAt, _time.GetTimestamp());
                _breaker.RecordSuccess(isProbe);
                break;
            case ProviderFailureKind.NodeOutage:
                // One node's failure says nothing about the others; the provider fails that node fast itself.
                _lastFailure = new LastFailure(classified.Reason, $"node {classified.Node}: {failure.Message}", _time.GetTimestamp());
                _breaker.RecordAbandoned(isProbe);
                break;
            default:
                _lastFailure = new LastFailure(classified.Reason, failure.Message, _time.GetTimestamp());
                if (classified.Reason == CacheProviderFailureReason.Timeout)
                {
                    _breaker.RecordTimeout(isProbe);
                }
                else
                {
                    _breaker.RecordFailure(isProbe);
                }

                break;
        }

        return classified.Kind;
    }

    private void OnOpened(TimeSpan breakDuration, CircuitOpenCause cause)
    {
        switch (cause)
        {
            case CircuitOpenCause.ConsecutiveTimeouts:
                Log.CircuitOpenedByTimeouts(_logger, _cacheName, _consecutiveTimeoutsToOpen, _timeout, breakDuration);
                break;
            case CircuitOpenCause.ConnectionLost:
                Log.CircuitOpenedByProvider(_logger, _cacheName, _lastFailure?.Description ?? "connection lost", breakDuration);
                break;
            case CircuitOpenCause.ProbeFailed:
                // The break simply starts again: already logged when it first opened.
                break;
            default:
                Log.CircuitOpened(_logger, _cacheName, breakDuration);
                break;
        }
    }

    /// <summary>Starts the operation timeout of one call, cancelled also when the caller cancels.</summary>
    private CallTimeout StartTimeout(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var source = timeout is { } own ? new CancellationTokenSource(own, _time) : RentTimeoutSource();
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

/// <summary>The last provider failure the pipeline saw, for the health check.</summary>
/// <param name="Reason">Why the call failed.</param>
/// <param name="Description">The provider's message.</param>
/// <param name="Timestamp">When (<see cref="TimeProvider.GetTimestamp"/>).</param>
internal sealed record LastFailure(CacheProviderFailureReason Reason, string Description, long Timestamp);
