namespace CachePatterns.Resilience.Internal;

/// <summary>
/// The circuit breaker in front of one out-of-process provider, with the semantics of Polly v8's advanced circuit
/// breaker: it opens when, within <see cref="CacheResilienceOptions.SamplingDuration"/>, at least
/// <see cref="CacheResilienceOptions.MinimumThroughput"/> calls ended and at least
/// <see cref="CacheResilienceOptions.FailureRatio"/> of them failed; after <see cref="CacheResilienceOptions.BreakDuration"/>
/// one probe call is let through (half-open), which closes it on success and opens it again on failure.
/// Two more rules catch a server that hangs (gray failure), whatever the history in the window: it opens after
/// <see cref="CacheResilienceOptions.ConsecutiveTimeoutsToOpen"/> timeouts with no success between them, and when the
/// provider reports its connection lost (<see cref="Trip"/>); a provider's "restored" signal ends the break at once
/// (<see cref="ProbeNow"/>).
/// </summary>
/// <remarks>
/// Polly's breaker took a lock two or three times per call; with 64 concurrent Redis hits on 2 cores that cost about
/// 4 µs of CPU per hit (the <c>redisthroughput</c> benchmark mode), more than the rest of the core's hit path. Here a
/// success on a closed circuit is one interlocked increment of the current time bucket's counter; only failures,
/// bucket roll-overs and state changes take the lock. Counts of calls racing a roll-over may land in a neighbouring
/// bucket, which a health ratio over ten buckets tolerates. The timeout streak adds one read of a field that is zero
/// while the provider answers (it is written only when a timeout happened), so the success path still writes nothing else.
/// </remarks>
internal sealed class CacheCircuitBreaker
{
    private const int BucketCount = 10;
    private const int ClosedState = 0;
    private const int OpenState = 1;
    private const int HalfOpenState = 2;

    private readonly TimeProvider _time;
    private readonly double _failureRatio;
    private readonly int _minimumThroughput;
    private readonly long _bucketLength;
    private readonly TimeSpan _breakDuration;
    private readonly long _breakLength;
    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly int _consecutiveTimeoutsToOpen;
    private readonly Lock _lock = new();
    private volatile int _state;

    // Timeouts since the last success. Read on every success, written only when it is not already zero.
    private volatile int _timeoutStreak;
    private long _openUntil;
    private bool _probeInFlight;

    public CacheCircuitBreaker(CacheResilienceOptions options, TimeProvider time)
    {
        _time = time;
        _failureRatio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
        _bucketLength = Math.Max(1, (long)(options.SamplingDuration.TotalSeconds * time.TimestampFrequency / BucketCount));
        _breakDuration = options.BreakDuration;
        _breakLength = (long)(options.BreakDuration.TotalSeconds * time.TimestampFrequency);
        _consecutiveTimeoutsToOpen = options.ConsecutiveTimeoutsToOpen;
        for (var i = 0; i < BucketCount; i++)
        {
            _buckets[i] = new Bucket { Epoch = long.MinValue };
        }
    }

    /// <summary>Raised (outside the lock) when the circuit opens, with the break duration and the rule that opened it.</summary>
    public event Action<TimeSpan, CircuitOpenCause>? Opened;

    /// <summary>Raised (outside the lock) when a probe succeeded and the circuit closed.</summary>
    public event Action? Closed;

    /// <summary>Gets a value indicating whether calls are being skipped (open, not yet probing).</summary>
    public bool IsOpen => _state == OpenState;

    /// <summary>Asks whether a call may go to the provider now; on a half-open circuit only one probe may.</summary>
    /// <param name="isProbe">Set when this call is the half-open circuit's probe; pass it back to the Record methods.</param>
    public bool TryAcquire(out bool isProbe)
    {
        isProbe = false;
        return _state == ClosedState || TryAcquireSlow(out isProbe);
    }

    /// <summary>Records a call that ended normally (or with an error that says nothing about the provider).</summary>
    public void RecordSuccess(bool isProbe)
    {
        if (_timeoutStreak != 0)
        {
            _timeoutStreak = 0;
        }

        if (!isProbe && _state == ClosedState)
        {
            var now = _time.GetTimestamp();
            Interlocked.Increment(ref CurrentBucket(now).Successes);
            return;
        }

        if (!isProbe)
        {
            // A call that started before the circuit opened: it says nothing the probe will not.
            return;
        }

        lock (_lock)
        {
            _probeInFlight = false;
            ResetBuckets();
            _state = ClosedState;
        }

        Closed?.Invoke();
    }

    /// <summary>Records a provider failure other than a timeout (an error, a refused connection).</summary>
    public void RecordFailure(bool isProbe) => RecordFailure(isProbe, timedOut: false);

    /// <summary>Records a call the provider did not answer in time: a failure, and one more in the timeout streak.</summary>
    public void RecordTimeout(bool isProbe) => RecordFailure(isProbe, timedOut: true);

    /// <summary>Opens the circuit now (the provider reported its connection lost); an open circuit stays as it is.</summary>
    public void Trip()
    {
        lock (_lock)
        {
            if (_state != ClosedState)
            {
                return;
            }

            _openUntil = _time.GetTimestamp() + _breakLength;
            _state = OpenState;
        }

        Opened?.Invoke(_breakDuration, CircuitOpenCause.ConnectionLost);
    }

    /// <summary>Ends the break now (the provider reported its connection restored): the next call probes.</summary>
    public void ProbeNow()
    {
        lock (_lock)
        {
            if (_state == OpenState)
            {
                _openUntil = _time.GetTimestamp();
            }
        }
    }

    private void RecordFailure(bool isProbe, bool timedOut)
    {
        CircuitOpenCause cause;
        lock (_lock)
        {
            var streak = timedOut ? _timeoutStreak + 1 : 0;
            _timeoutStreak = streak;
            if (isProbe)
            {
                _probeInFlight = false;
                cause = CircuitOpenCause.ProbeFailed;
            }
            else if (_state != ClosedState)
            {
                return;
            }
            else
            {
                var now = _time.GetTimestamp();
                CurrentBucket(now).Failures++;
                if (timedOut && streak >= _consecutiveTimeoutsToOpen)
                {
                    cause = CircuitOpenCause.ConsecutiveTimeouts;
                }
                else if (ShouldOpen(now))
                {
                    cause = CircuitOpenCause.FailureRatio;
                }
                else
                {
                    return;
                }
            }

            _openUntil = _time.GetTimestamp() + _breakLength;
            _state = OpenState;
        }

        Opened?.Invoke(_breakDuration, cause);
    }

    /// <summary>Records a call that its caller cancelled: not an outcome, but a probe gives its turn back.</summary>
    public void RecordAbandoned(bool isProbe)
    {
        if (isProbe)
        {
            lock (_lock)
            {
                _probeInFlight = false;
            }
        }
    }

    private bool TryAcquireSlow(out bool isProbe)
    {
        lock (_lock)
        {
            isProbe = false;
            if (_state == ClosedState)
            {
                return true;
            }

            if (_state == OpenState && _time.GetTimestamp() >= _openUntil)
            {
                _state = HalfOpenState;
            }

            if (_state == HalfOpenState && !_probeInFlight)
            {
                _probeInFlight = true;
                isProbe = true;
                return true;
            }

            return false;
        }
    }

    private Bucket CurrentBucket(long now)
    {
        var epoch = now / _bucketLength;
        var bucket = _buckets[(int)(epoch % BucketCount)];
        if (Volatile.Read(ref bucket.Epoch) != epoch)
        {
            lock (_lock)
            {
                if (bucket.Epoch != epoch)
                {
                    bucket.Successes = 0;
                    bucket.Failures = 0;
                    Volatile.Write(ref bucket.Epoch, epoch);
                }
            }
        }

        return bucket;
    }

    /// <summary>Sums the buckets of the sampling window; called under the lock.</summary>
    private bool ShouldOpen(long now)
    {
        var epoch = now / _bucketLength;
        long successes = 0, failures = 0;
        foreach (var bucket in _buckets)
        {
            if (bucket.Epoch > epoch - BucketCount)
            {
                successes += Volatile.Read(ref bucket.Successes);
                failures += bucket.Failures;
            }
        }

        var total = successes + failures;
        return total >= _minimumThroughput && failures >= _failureRatio * total;
    }

    private void ResetBuckets()
    {
        foreach (var bucket in _buckets)
        {
            bucket.Epoch = long.MinValue;
            bucket.Successes = 0;
            bucket.Failures = 0;
        }
    }

    /// <summary>The calls that ended in one tenth of the sampling window.</summary>
    private sealed class Bucket
    {
        public long Epoch;
        public int Successes;
        public int Failures;
    }
}

/// <summary>Which rule opened the circuit (for the log line and the health check).</summary>
internal enum CircuitOpenCause
{
    /// <summary>The share of failed calls in the sampling window reached <see cref="CacheResilienceOptions.FailureRatio"/>.</summary>
    FailureRatio,

    /// <summary><see cref="CacheResilienceOptions.ConsecutiveTimeoutsToOpen"/> calls in a row timed out: the server hangs.</summary>
    ConsecutiveTimeouts,

    /// <summary>The provider reported its connection lost.</summary>
    ConnectionLost,

    /// <summary>The half-open probe failed.</summary>
    ProbeFailed,
}
