namespace CachePatterns.Distributed;

/// <summary>Options of the <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> registered over a cache.</summary>
public sealed class DistributedCacheOptions
{
    /// <summary>Gets or sets the namespace of its keys in the provider. Default: <c>dc:</c>.</summary>
    public string KeyPrefix { get; set; } = "dc:";

    /// <summary>
    /// Gets or sets whether the entries are a <see cref="DistributedCacheSemantics.Store"/> (the only copy, as sessions;
    /// default) or a <see cref="DistributedCacheSemantics.Cache"/> (recomputable, as output caching).
    /// </summary>
    public DistributedCacheSemantics Semantics { get; set; } = DistributedCacheSemantics.Store;

    /// <summary>
    /// Gets or sets how long one attempt of a <see cref="DistributedCacheSemantics.Store"/> call waits for an
    /// out-of-process provider before it is retried. Default: 1 second. (With <see cref="DistributedCacheSemantics.Cache"/>,
    /// the cache's <c>CacheResilienceOptions.OperationTimeout</c> applies.)
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many attempts a <see cref="DistributedCacheSemantics.Store"/> call makes before it throws
    /// <see cref="CacheUnavailableException"/> (every retry of a write carries the same write id). Default: 3.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets the pause before the second attempt of a store call; it doubles for each further attempt. Default: 100 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets the most entries the in-memory provider keeps for this <c>IDistributedCache</c>, separately from
    /// every strategy's bound; <see langword="null"/> (default) uses the provider's <c>MaxEntries</c>. Remote providers
    /// ignore it (the server's memory policy decides).
    /// </summary>
    public int? MaxEntries { get; set; }

    /// <summary>
    /// Gets or sets the most bytes the in-memory provider keeps for this <c>IDistributedCache</c>;
    /// <see langword="null"/> (default) uses the provider's <c>MaxBytes</c>. Remote providers ignore it.
    /// </summary>
    public long? MaxBytes { get; set; }
}
