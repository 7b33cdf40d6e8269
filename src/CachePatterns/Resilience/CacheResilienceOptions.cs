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
    /// the cache until its invalidation succeeds. Over this, the strategy forgets the keys, reads nothing from the cache,
    /// and sweeps its whole key prefix once the provider answers (<c>ICacheProvider.SweepAsync</c>); see
    /// docs/architecture.md, "The invalidation ledger". Default: 100,000.
    /// </summary>
    public int MaxPendingInvalidations { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets how many provider calls in a row may time out, with no call succeeding between them, before the
    /// circuit opens whatever the failure ratio in <see cref="SamplingDuration"/> says. This cuts off a server that hangs
    /// (paused, swapping, a network black hole) about one <see cref="OperationTimeout"/> after it stops answering when
    /// calls are concurrent, instead of after the sampling window has forgotten the successes before the hang.
    /// Default: 5.
    /// </summary>
    public int ConsecutiveTimeoutsToOpen { get; set; } = 5;
}
