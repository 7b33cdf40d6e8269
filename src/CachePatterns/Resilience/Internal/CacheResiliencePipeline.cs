using CachePatterns.Internal;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace CachePatterns.Resilience.Internal;

/// <summary>The timeout and circuit breaker shared by every store of one cache (one provider).</summary>
internal sealed class CacheResiliencePipeline
{
    public CacheResiliencePipeline(string cacheName, CacheResilienceOptions options, TimeProvider time, ILogger logger)
    {
        Pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
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
            .AddTimeout(options.OperationTimeout)
            .Build();
    }

    /// <summary>Raised when the provider is healthy again, so remembered invalidations are replayed.</summary>
    public event Action? CircuitClosed;

    public ResiliencePipeline Pipeline { get; }

    public CircuitBreakerStateProvider StateProvider { get; } = new();

    public bool IsCircuitOpen => StateProvider.CircuitState is CircuitState.Open or CircuitState.Isolated;
}
