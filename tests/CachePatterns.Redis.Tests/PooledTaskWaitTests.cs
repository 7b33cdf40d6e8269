using CachePatterns.Redis.Internal;

namespace CachePatterns.Redis.Tests;

/// <summary>The pooled replacement of <c>Task.WaitAsync(token)</c> on the hit path (no server needed).</summary>
public sealed class PooledTaskWaitTests
{
    [Fact]
    public async Task A_task_that_completes_first_gives_its_result_and_the_waiter_is_reused_for_the_next_wait()
    {
        using var timeout = new CancellationTokenSource();
        for (var i = 0; i < 100; i++)
        {
            var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var wait = PooledTaskWait<int>.WaitAsync(source.Task, timeout.Token);
            Assert.False(wait.IsCompleted);
            source.SetResult(i);
            Assert.Equal(i, await wait);
        }
    }

    [Fact]
    public async Task A_failed_task_rethrows_its_own_exception()
    {
        using var timeout = new CancellationTokenSource();
        var source = new TaskCompletionSource<int>();
        var wait = PooledTaskWait<int>.WaitAsync(source.Task, timeout.Token);
        source.SetException(new InvalidOperationException("redis said no"));
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);
        Assert.Equal("redis said no", thrown.Message);
    }

    [Fact]
    public async Task The_token_firing_first_ends_the_wait_and_the_task_completing_later_touches_no_later_wait()
    {
        using var timeout = new CancellationTokenSource();
        var slow = new TaskCompletionSource<int>();
        var abandoned = PooledTaskWait<int>.WaitAsync(slow.Task, timeout.Token);
        await timeout.CancelAsync();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await abandoned);
        Assert.Equal(timeout.Token, cancelled.CancellationToken);

        // A later wait must not see the abandoned task's completion.
        using var next = new CancellationTokenSource();
        var fresh = new TaskCompletionSource<int>();
        var wait = PooledTaskWait<int>.WaitAsync(fresh.Task, next.Token);
        slow.SetResult(1);
        Assert.False(wait.IsCompleted);
        fresh.SetResult(2);
        Assert.Equal(2, await wait);
    }

    [Fact]
    public async Task The_caller_resumes_on_the_thread_pool_not_on_the_thread_that_cancelled()
    {
        using var timeout = new CancellationTokenSource();
#pragma warning disable CA2012 // The test registers its own continuation (as an awaiting caller would), then reads the result once.
        var wait = PooledTaskWait<int>.WaitAsync(new TaskCompletionSource<int>().Task, timeout.Token);
#pragma warning restore CA2012
        var resumedOn = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Registered off xunit's synchronization context, as in an ASP.NET Core app (which has none).
        await Task.Run(() => wait.GetAwaiter().OnCompleted(() => resumedOn.SetResult(Environment.CurrentManagedThreadId)));

        // Cancel from a dedicated thread, as the timer thread would; the continuation must not run on it.
        var cancelling = new Thread(() => timeout.Cancel());
        cancelling.Start();
        cancelling.Join();
        Assert.NotEqual(cancelling.ManagedThreadId, await resumedOn.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(wait.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
    }

    [Fact]
    public async Task Without_a_cancellable_token_or_with_a_completed_task_the_task_itself_is_awaited()
    {
        Assert.Equal(3, await PooledTaskWait<int>.WaitAsync(Task.FromResult(3), new CancellationToken(canceled: true)));
        var source = new TaskCompletionSource<int>();
        var wait = PooledTaskWait<int>.WaitAsync(source.Task, CancellationToken.None);
        source.SetResult(4);
        Assert.Equal(4, await wait);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await PooledTaskWait<int>.WaitAsync(new TaskCompletionSource<int>().Task, new CancellationToken(canceled: true)));
    }
}
