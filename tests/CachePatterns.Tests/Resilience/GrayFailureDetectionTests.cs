using CachePatterns.Internal;
using CachePatterns.Resilience;
using CachePatterns.Resilience.Internal;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Resilience;

/// <summary>
/// A server that hangs (gray failure) is cut off by consecutive timeouts or the provider's own "lost" signal, whatever the
/// sampling window remembers of the time before the hang; "restored" ends the break at once. On a fake clock.
/// </summary>
public sealed class GrayFailureDetectionTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CacheCircuitBreaker _breaker;
    private readonly List<CircuitOpenCause> _opened = [];

    public GrayFailureDetectionTests()
    {
        _breaker = new CacheCircuitBreaker(
            new CacheResilienceOptions { FailureRatio = 0.5, MinimumThroughput = 10, SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(5), ConsecutiveTimeoutsToOpen = 5 },
            _time);
        _breaker.Opened += (_, cause) => _opened.Add(cause);
    }

    [Fact]
    public void Consecutive_timeouts_open_it_although_the_window_holds_thousands_of_successes()
    {
        // Ten seconds of healthy traffic, then the server hangs: the ratio rule would need 10,000 failures.
        for (var second = 0; second < 10; second++)
        {
            Succeed(1000);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        TimeOut(4);
        Assert.False(_breaker.IsOpen);
        TimeOut(1);
        Assert.True(_breaker.IsOpen);
        Assert.Equal([CircuitOpenCause.ConsecutiveTimeouts], _opened);
    }

    [Fact]
    public void A_success_between_timeouts_breaks_the_streak_and_errors_do_not_extend_it()
    {
        Succeed(1000);
        TimeOut(4);
        Succeed(1);
        TimeOut(4);
        _breaker.RecordFailure(isProbe: false);
        TimeOut(4);
        Assert.False(_breaker.IsOpen);
        TimeOut(1);
        Assert.True(_breaker.IsOpen);
    }

    [Fact]
    public void The_providers_lost_signal_opens_it_and_restored_lets_the_next_call_probe_at_once()
    {
        Succeed(1000);
        _breaker.Trip();
        Assert.True(_breaker.IsOpen);
        Assert.Equal([CircuitOpenCause.ConnectionLost], _opened);
        Assert.False(_breaker.TryAcquire(out _));

        // Long before the break is over, the provider says it answers again: one probe goes, its success closes.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        _breaker.ProbeNow();
        Assert.True(_breaker.TryAcquire(out var probe));
        Assert.True(probe);
        Assert.False(_breaker.TryAcquire(out _));
        _breaker.RecordSuccess(probe);
        Assert.False(_breaker.IsOpen);
        Assert.True(_breaker.TryAcquire(out var normal));
        Assert.False(normal);
    }

    [Fact]
    public void Restored_on_a_closed_circuit_changes_nothing_and_a_second_lost_signal_does_not_reopen()
    {
        _breaker.ProbeNow();
        Assert.True(_breaker.TryAcquire(out var probe));
        Assert.False(probe);

        _breaker.Trip();
        _breaker.Trip();
        Assert.Single(_opened);
    }

    [Fact]
    public void The_log_rate_limiter_lets_one_line_through_per_interval_and_counts_the_others()
    {
        var limiter = new LogRateLimiter(_time, TimeSpan.FromSeconds(10));
        Assert.True(limiter.TryAcquire(out var suppressed));
        Assert.Equal(0, suppressed);
        for (var i = 0; i < 1000; i++)
        {
            Assert.False(limiter.TryAcquire(out _));
        }

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(limiter.TryAcquire(out _));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(limiter.TryAcquire(out suppressed));
        Assert.Equal(1001, suppressed);
        Assert.False(limiter.TryAcquire(out _));
    }

    private void Succeed(int times)
    {
        for (var i = 0; i < times; i++)
        {
            _breaker.RecordSuccess(isProbe: false);
        }
    }

    private void TimeOut(int times)
    {
        for (var i = 0; i < times; i++)
        {
            _breaker.RecordTimeout(isProbe: false);
        }
    }
}
