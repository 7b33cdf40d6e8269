using CachePatterns.Strategies;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Stampede;

/// <summary>Concurrent misses of one key run one load; cancellation and failure are shared correctly.</summary>
public sealed class StampedeTests
{
    [Fact]
    public async Task A_thousand_concurrent_misses_run_one_load()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        var (strategy, services) = Create(async (key, ct) =>
        {
            Interlocked.Increment(ref loads);
            await gate.Task.WaitAsync(ct);
            return LoadResult.Found($"value-{key}");
        });
        await using var _ = services;

        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(() => strategy.GetAsync(7).AsTask())).ToArray();
        await WaitUntilAsync(() => Volatile.Read(ref loads) >= 1);
        gate.SetResult();
        var values = await Task.WhenAll(callers);

        Assert.Equal(1, loads);
        Assert.All(values, v => Assert.Equal("value-7", v));
        Assert.Equal("value-7", await strategy.GetAsync(7));
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task One_caller_cancelling_does_not_cancel_the_shared_load()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loaderToken = CancellationToken.None;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (strategy, services) = Create(async (key, ct) =>
        {
            loaderToken = ct;
            started.TrySetResult();
            await gate.Task;
            return LoadResult.Found("loaded");
        });
        await using var _ = services;

        using var impatient = new CancellationTokenSource();
        var first = strategy.GetAsync(1, impatient.Token).AsTask();
        await started.Task;
        var second = strategy.GetAsync(1).AsTask();

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(loaderToken.IsCancellationRequested, "The shared load was cancelled by one caller.");

        gate.SetResult();
        Assert.Equal("loaded", await second);
        Assert.Equal("loaded", await strategy.GetAsync(1));
    }

    [Fact]
    public async Task Every_caller_cancelling_cancels_the_load()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loaderCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (strategy, services) = Create(async (key, ct) =>
        {
            ct.Register(() => loaderCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return LoadResult.Found("never");
        });
        await using var _ = services;

        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        var first = strategy.GetAsync(1, a.Token).AsTask();
        await started.Task;
        var second = strategy.GetAsync(1, b.Token).AsTask();
        await a.CancelAsync();
        Assert.False(loaderCancelled.Task.IsCompleted);
        await b.CancelAsync();

        await loaderCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
    }

    [Fact]
    public async Task A_failing_load_reaches_every_waiter_and_is_not_cached()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        var (strategy, services) = Create(async (key, ct) =>
        {
            if (Interlocked.Increment(ref loads) == 1)
            {
                await gate.Task;
                throw new InvalidOperationException("database down");
            }

            return LoadResult.Found("recovered");
        });
        await using var _ = services;

        // Started on this thread: the first call starts the load (held at the gate), the others join it before it fails.
        var callers = Enumerable.Range(0, 50).Select(_ => strategy.GetAsync(3).AsTask()).ToArray();
        Assert.Equal(1, loads);
        gate.SetResult();
        foreach (var caller in callers)
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => caller);
            Assert.Equal("database down", ex.Message);
        }

        Assert.Equal(1, loads);
        Assert.Equal("recovered", await strategy.GetAsync(3));
        Assert.Equal(2, loads);
        Assert.Equal(0, ((CacheStrategy<int, string>)strategy).FlightCount);
    }

    [Fact]
    public async Task Bulk_reads_and_single_reads_of_the_same_cold_key_share_one_load()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        var (strategy, services) = Create(async (key, ct) =>
        {
            Interlocked.Increment(ref loads);
            await gate.Task;
            return LoadResult.Found($"value-{key}");
        });
        await using var _ = services;

        var single = strategy.GetAsync(2).AsTask();
        await WaitUntilAsync(() => Volatile.Read(ref loads) >= 1);
        var bulk = strategy.GetManyAsync([2, 2]).AsTask();
        var bulkAgain = strategy.GetManyAsync([2]).AsTask();
        gate.SetResult();

        Assert.Equal("value-2", await single);
        Assert.Equal("value-2", (await bulk)[2]);
        Assert.Equal("value-2", (await bulkAgain)[2]);
        Assert.Equal(1, loads);
        Assert.Equal(0, ((CacheStrategy<int, string>)strategy).FlightCount);
    }

    [Fact]
    public async Task A_read_that_starts_after_a_write_does_not_join_the_older_load()
    {
        var database = new Dictionary<int, string> { [5] = "old" };
        var firstLoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        var services = new ServiceCollection()
            .AddCachePatterns()
            .AddStrategy<int, string>(
                CacheStrategyKind.CacheAside,
                _ => new DelegateLoader(async (key, ct) =>
                {
                    var value = database[key];
                    if (Interlocked.Increment(ref loads) == 1)
                    {
                        await firstLoadGate.Task;
                    }

                    return LoadResult.Found(value);
                }),
                _ => new DelegateWriter((key, value) => database[key] = value),
                o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        await using var _ = services;
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();

        var early = strategy.GetAsync(5).AsTask();
        await WaitUntilAsync(() => Volatile.Read(ref loads) >= 1);
        await strategy.WriteAsync(5, "new");
        var late = await strategy.GetAsync(5);
        firstLoadGate.SetResult();

        // The early read's fill is fenced by the write, so its flight looks again (and hits the late read's fill).
        Assert.Equal("new", late);
        Assert.Equal("new", await early);
        Assert.Equal("new", await strategy.GetAsync(5));
    }

    [Fact]
    public async Task Callers_giving_up_during_the_reload_of_a_fenced_fill_cancel_it_and_leave_no_flight()
    {
        // Two containers over one store: the invalidation comes from the "other process", so this one's flight stays joinable.
        var shared = new SharedStoreProvider();
        ICacheStrategy<int, string>? other = null;
        var loads = 0;
        var reloading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reloadCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loader = new DelegateLoader(async (key, ct) =>
        {
            switch (Interlocked.Increment(ref loads))
            {
                case 1:
                    // The other process's write lands while the first load runs: its fill is fenced, the flight loads again.
                    await Task.Yield();
                    await other!.InvalidateAsync(key, ct);
                    return LoadResult.Found("before the invalidation");
                case 2:
                    ct.Register(() => reloadCancelled.TrySetResult());
                    reloading.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                    return LoadResult.Found("never");
                default:
                    return LoadResult.Found("fresh");
            }
        });
        ServiceProvider Container() => new ServiceCollection()
            .AddCachePatterns()
            .UseProvider(_ => shared)
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader, configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        await using var one = Container();
        await using var two = Container();
        var strategy = one.GetRequiredService<ICacheStrategy<int, string>>();
        other = two.GetRequiredService<ICacheStrategy<int, string>>();

        var sources = Enumerable.Range(0, 20).Select(_ => new CancellationTokenSource()).ToArray();
        var callers = sources.Select(cts => strategy.GetAsync(1, cts.Token).AsTask()).ToArray();
        await reloading.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, ((CacheStrategy<int, string>)strategy).FlightCount);
        foreach (var cts in sources)
        {
            await cts.CancelAsync();
        }

        await reloadCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var caller in callers)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        }

        await WaitUntilAsync(() => ((CacheStrategy<int, string>)strategy).FlightCount == 0);
        Assert.Equal("fresh", await strategy.GetAsync(1));
        Assert.Equal((true, "fresh"), await other.TryGetAsync(1));
        Assert.Equal(3, loads);
        Array.ForEach(sources, s => s.Dispose());
        shared.DisposeShared();
    }

    private static (ICacheStrategy<int, string> Strategy, ServiceProvider Services) Create(Func<int, CancellationToken, ValueTask<LoadResult<string>>> load)
    {
        var services = new ServiceCollection()
            .AddCachePatterns()
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new DelegateLoader(load), configure: o => o.Jitter = 0)
            .Services.BuildServiceProvider();
        return (services.GetRequiredService<ICacheStrategy<int, string>>(), services);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    private sealed class DelegateLoader(Func<int, CancellationToken, ValueTask<LoadResult<string>>> load) : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) => load(key, cancellationToken);
    }

    private sealed class DelegateWriter(Action<int, string> write) : ICacheWriter<int, string>
    {
        public ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
        {
            write(key, value);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(int key, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
