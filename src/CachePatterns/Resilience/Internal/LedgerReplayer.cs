namespace CachePatterns.Resilience.Internal;

/// <summary>
/// When a ledger of lost invalidations (<see cref="InvalidationLedger{TKey}"/>, <see cref="TagInvalidationLedger"/>) replays:
/// when the provider answers again (<see cref="CacheResiliencePipeline.ProviderBack"/>), by a timer every retry interval
/// while anything is pending, and when the ledger asks; one run at a time, and the timer stops only when nothing is left.
/// </summary>
internal sealed class LedgerReplayer : IDisposable
{
    private readonly CacheResiliencePipeline _pipeline;
    private readonly TimeSpan _retryInterval;
    private readonly Func<Task> _replay;
    private readonly Func<bool> _isEmpty;
    private readonly ITimer _timer;
    private int _replaying;

    /// <param name="pipeline">The cache's pipeline: its clock and its "provider back" signal.</param>
    /// <param name="retryInterval">How often the timer replays while anything is pending.</param>
    /// <param name="replay">One replay of everything pending; must not throw.</param>
    /// <param name="isEmpty">Whether nothing is pending.</param>
    public LedgerReplayer(CacheResiliencePipeline pipeline, TimeSpan retryInterval, Func<Task> replay, Func<bool> isEmpty)
    {
        _pipeline = pipeline;
        _retryInterval = retryInterval;
        _replay = replay;
        _isEmpty = isEmpty;
        _timer = pipeline.Time.CreateTimer(static s => _ = ((LedgerReplayer)s!).RunAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        pipeline.ProviderBack += OnProviderBack;
    }

    /// <summary>Gets a value indicating whether a replay is running.</summary>
    public bool IsReplaying => Volatile.Read(ref _replaying) != 0;

    /// <summary>Something was remembered: the timer replays every retry interval until nothing is pending.</summary>
    public void Arm() => _timer.Change(_retryInterval, _retryInterval);

    /// <summary>Replays now unless nothing is pending or a replay is running already.</summary>
    public async Task RunAsync()
    {
        if (_isEmpty() || Interlocked.Exchange(ref _replaying, 1) == 1)
        {
            return;
        }

        try
        {
            await _replay().ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
            if (_isEmpty())
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

                // Something remembered while the timer was being stopped must not wait for the next failure.
                if (!_isEmpty())
                {
                    Arm();
                }
            }
        }
    }

    public void Dispose()
    {
        _pipeline.ProviderBack -= OnProviderBack;
        _timer.Dispose();
    }

    private void OnProviderBack() => _ = RunAsync();
}
