namespace CachePatterns.Resilience;

/// <summary>
/// How calls to an out-of-process provider are bounded: a timeout per call and a circuit breaker (Polly v8's semantics)
/// that stops paying the timeout on every call while the provider is down. In-process providers skip both.
/// </summary>
public sealed class CacheResilienceOptions
{
    /// <summary>Gets or sets the longest a single provider call may take before the read goes to the loader. Default: 500 ms.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the share of failed calls in <see cref="SamplingDuration"/> that opens the circuit. Default: 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets the fewest calls in <see cref="SamplingDuration"/> before the circuit may open. Default: 10.</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>Gets or sets the window over which failures are counted. Default: 10 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long the circuit stays open before one call probes the provider again. Default: 5 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many keys whose invalidation failed are remembered per strategy; such a key is not read from
    /// the cache until its invalidation succeeds. Default: 100,000.
    /// </summary>
    public int MaxPendingInvalidations { get; set; } = 100_000;
}
