using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Awaits a StackExchange.Redis task until a cancellation token fires, like <see cref="Task{TResult}.WaitAsync(CancellationToken)"/>
/// but with pooled waiters: <c>WaitAsync</c> allocates a promise per call, which on the hit path (where the core always
/// passes its operation-timeout token) was a fifth of the provider's allocations.
/// </summary>
/// <typeparam name="T">The task's result type.</typeparam>
internal sealed class PooledTaskWait<T> : IValueTaskSource<T>
{
    private const int MaxPooled = 64;
    private static readonly ConcurrentQueue<PooledTaskWait<T>> Pool = new();

    private readonly Action _onTaskCompleted;
    private ManualResetValueTaskSourceCore<T> _core;
    private Task<T>? _task;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;
    private int _completed;
    private bool _reusable;

    private PooledTaskWait()
    {
        _onTaskCompleted = OnTaskCompleted;
    }

    /// <summary>Waits for <paramref name="task"/>, or until <paramref name="cancellationToken"/> fires (the task keeps running).</summary>
    public static ValueTask<T> WaitAsync(Task<T> task, CancellationToken cancellationToken)
    {
        if (task.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            return new ValueTask<T>(task);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (!Pool.TryDequeue(out var wait))
        {
            wait = new PooledTaskWait<T>();
        }

        return wait.Start(task, cancellationToken);
    }

    T IValueTaskSource<T>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Only a wait that the task completed is reused: after a cancellation the task's continuation may still run.
            if (_reusable)
            {
                _task = null;
                _cancellationToken = default;
                _registration = default;
                _core.Reset();
                if (Pool.Count < MaxPooled)
                {
                    Pool.Enqueue(this);
                }
            }
        }
    }

    ValueTaskSourceStatus IValueTaskSource<T>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<T>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private ValueTask<T> Start(Task<T> task, CancellationToken cancellationToken)
    {
        _task = task;
        _cancellationToken = cancellationToken;
        _completed = 0;
        _reusable = false;
        var version = _core.Version;
        _registration = cancellationToken.UnsafeRegister(static s => ((PooledTaskWait<T>)s!).OnCancelled(), this);
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onTaskCompleted);
        return new ValueTask<T>(this, version);
    }

    private void OnTaskCompleted()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        // Disposing waits for a cancellation callback that is running; it found _completed set and did nothing.
        _registration.Dispose();
        _reusable = true;
        try
        {
            _core.SetResult(_task!.GetAwaiter().GetResult());
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
        }
    }

    private void OnCancelled()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            // This runs on the thread that cancelled, often the timer thread of the core's timeout: the caller's
            // continuation (which then goes to the loader) must not run there. A cancelled wait is never reused.
            _core.RunContinuationsAsynchronously = true;
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
    }
}
