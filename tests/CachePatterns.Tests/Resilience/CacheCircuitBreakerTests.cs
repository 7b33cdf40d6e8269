using CachePatterns.Resilience;
using CachePatterns.Resilience.Internal;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Resilience;

/// <summary>The breaker's decisions (Polly v8's advanced-breaker semantics), on a fake clock.</summary>
public sealed class CacheCircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CacheCircuitBreaker _breaker;
    private readonly List<TimeSpan> _opened = [];
    private int _closed;

    public CacheCircuitBreakerTests()
    {
        _breaker = new CacheCircuitBreaker(
            new CacheResilienceOptions { FailureRatio = 0.5, MinimumThroughput = 4, SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(5) },
            _time);
        _breaker.Opened += (breakDuration, _) => _opened.Add(breakDuration);
        _breaker.Closed += () => _closed++;
    }

    [Fact]
    public void It_opens_only_once_the_minimum_throughput_is_reached_and_the_failure_ratio_too()
    {
        // 3 failures of 3 calls: below the minimum throughput.
        Fail(3);
        Assert.False(_breaker.IsOpen);

        // 4 failures of 9 calls: below the ratio; 5 of 10 reaches it.
        Succeed(5);
        Fail(1);
        Assert.False(_breaker.IsOpen);
        Fail(1);
        Assert.True(_breaker.IsOpen);
        Assert.Equal([TimeSpan.FromSeconds(5)], _opened);
        Assert.False(_breaker.TryAcquire(out _));
    }

    [Fact]
    public void Many_successes_keep_it_closed_through_a_few_failures()
    {
        Succeed(100);
        Fail(20);
        Assert.False(_breaker.IsOpen);
    }

    [Fact]
    public void Failures_older_than_the_sampling_window_are_forgotten()
    {
        Fail(3);
        _time.Advance(TimeSpan.FromSeconds(11));
        Fail(1);
        Assert.False(_breaker.IsOpen);
        Fail(3);
        Assert.True(_breaker.IsOpen);
    }

    [Fact]
    public void After_the_break_exactly_one_probe_goes_through_and_its_success_closes_the_circuit()
    {
        Fail(4);
        Assert.True(_breaker.IsOpen);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(_breaker.TryAcquire(out _));

        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(_breaker.TryAcquire(out var probe));
        Assert.True(probe);
        Assert.False(_breaker.TryAcquire(out _));

        _breaker.RecordSuccess(probe);
        Assert.Equal(1, _closed);
        Assert.True(_breaker.TryAcquire(out var normal));
        Assert.False(normal);

        // Closing starts a fresh window: the failures before the break are forgotten.
        Fail(3);
        Assert.False(_breaker.IsOpen);
    }

    [Fact]
    public void A_failed_probe_opens_it_for_another_break_and_an_abandoned_probe_lets_the_next_caller_probe()
    {
        Fail(4);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(_breaker.TryAcquire(out var probe));
        _breaker.RecordFailure(probe);
        Assert.True(_breaker.IsOpen);
        Assert.Equal(2, _opened.Count);
        Assert.False(_breaker.TryAcquire(out _));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(_breaker.TryAcquire(out probe));
        _breaker.RecordAbandoned(probe);
        Assert.True(_breaker.TryAcquire(out var next));
        Assert.True(next);
        Assert.Equal(0, _closed);
    }

    [Fact]
    public void Outcomes_of_calls_that_started_before_it_opened_change_nothing()
    {
        Fail(4);
        _breaker.RecordSuccess(isProbe: false);
        _breaker.RecordFailure(isProbe: false);
        Assert.True(_breaker.IsOpen);
        Assert.Single(_opened);
        Assert.Equal(0, _closed);
    }

    [Fact]
    public async Task Concurrent_successes_are_all_counted()
    {
        // 8 threads x 10,000 successes, then 79,999 failures must not open it (ratio just under 0.5) and one more must.
        var breaker = new CacheCircuitBreaker(
            new CacheResilienceOptions { FailureRatio = 0.5, MinimumThroughput = 2, SamplingDuration = TimeSpan.FromSeconds(10) },
            _time);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                breaker.RecordSuccess(isProbe: false);
            }
        })));

        for (var i = 0; i < 79_999; i++)
        {
            breaker.RecordFailure(isProbe: false);
        }

        Assert.False(breaker.IsOpen);
        breaker.RecordFailure(isProbe: false);
        Assert.True(breaker.IsOpen);
    }

    private void Succeed(int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(_breaker.TryAcquire(out var probe));
            _breaker.RecordSuccess(probe);
        }
    }

    private void Fail(int times)
    {
        for (var i = 0; i < times; i++)
        {
            if (_breaker.TryAcquire(out var probe))
            {
                _breaker.RecordFailure(probe);
            }
        }
    }
}
