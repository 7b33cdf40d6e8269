using System.Collections.Concurrent;
using CachePatterns.Internal;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace CachePatterns.Resilience.Internal;

/// <summary>The timeout and circuit breaker shared by every store of one cache (one provider).</summary>
/// <remarks>
/// Polly's circuit breaker decides, and sees every outcome; the timeout is ours. While the circuit is closed a call
/// runs directly under a pooled timeout source and its outcome is then handed to the breaker synchronously, which
/// costs no allocation; running every cache hit through Polly's asynchronous pipeline cost about 2 KB per call
/// (measured with the <c>redisalloc</c> benchmark mode). Open and half-open circuits go through Polly itself, so it
/// short-circuits calls and lets exactly one probe through.
/// </remarks>
internal sealed class CacheResiliencePipeline
{
    private const int MaxPooledTimeoutSources = 256;

    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<CancellationTokenSource> _timeoutSources = new();

    public CacheResiliencePipeline(string cacheName, CacheResilienceOptions options, TimeProvider time, ILogger logger)
    {
        _timeout = options.OperationTimeout;
        _time = time;
        Breaker = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(static ex => ex is not ArgumentException and not OperationCanceledException),
                StateProvider = StateProvider,
                OnOpened = args =>
                {
                    Log.CircuitOpened(logger, cacheName, args.BreakDuration);
                    return default;
                },
                OnClosed = _ =>
                {
                    Log.CircuitClosed(logger, cacheName);
                    CircuitClosed?.Invoke();
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Raised when the provider is healthy again, so remembered invalidations are replayed.</summary>
    public event Action? CircuitClosed;

    /// <summary>Gets the circuit breaker alone (the timeout is applied by <see cref="ExecuteAsync{TState, TResult}"/>).</summary>
    public ResiliencePipeline Breaker { get; }

    public CircuitBreakerStateProvider StateProvider { get; } = new();

    public bool IsCircuitOpen => StateProvider.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>Runs one provider call under the timeout and the circuit breaker.</summary>
    /// <exception cref="TimeoutException">The provider did not answer within the operation timeout.</exception>
    /// <exception cref="BrokenCircuitException">The circuit is open.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        return StateProvider.CircuitState == CircuitState.Closed
            ? ExecuteClosedAsync(call, state, cancellationToken)
            : Breaker.ExecuteAsync(
                static (s, ct) => s.Self.WithTimeoutAsync(s.Call, s.State, ct),
                (Self: this, Call: call, State: state),
                cancellationToken);
    }

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

    // The closed circuit's path does not call WithTimeoutAsync: one state machine less per cache hit.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ExecuteClosedAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        var timeout = StartTimeout(cancellationToken);
        TResult result;
        try
        {
            result = await call(state, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            var failure = ex is OperationCanceledException && timeout.Token.IsCancellationRequested ? TimedOut() : ex;
            await RecordAsync(Outcome.FromException<TResult>(failure)).ConfigureAwait(false);
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

        await RecordAsync(Outcome.FromResult(result)).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Tells the breaker how a call that ran outside it ended. Completes synchronously except when the circuit changes
    /// state: Polly then runs its callbacks (our logs) on its own scheduler, and the call waits for them, as it would
    /// inside the pipeline.
    /// </summary>
    private ValueTask RecordAsync<TResult>(Outcome<TResult> outcome)
    {
        // Outcomes of calls that raced a circuit opening come back as BrokenCircuitException: nothing to do.
        var context = ResilienceContextPool.Shared.Get();
        var recorded = Breaker.ExecuteOutcomeAsync(static (_, o) => new ValueTask<Outcome<TResult>>(o), context, outcome);
        if (recorded.IsCompleted)
        {
            _ = recorded.Result;
            ResilienceContextPool.Shared.Return(context);
            return default;
        }

        return new ValueTask(ReturnWhenRecordedAsync(recorded, context));
    }

    private static async Task ReturnWhenRecordedAsync<TResult>(ValueTask<Outcome<TResult>> recorded, ResilienceContext context)
    {
        await recorded.ConfigureAwait(false);
        ResilienceContextPool.Shared.Return(context);
    }

    private async ValueTask<TResult> WithTimeoutAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        using var timeout = StartTimeout(cancellationToken);
        try
        {
            return await call(state, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.Token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut();
        }
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
