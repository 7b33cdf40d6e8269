using System.Diagnostics;
using System.Threading.Channels;
using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Tests.Strategies;

public class StaleWhileRevalidateTests
{
    private static TestCacheHost RevalidatingHost(TimeSpan? failSafe = null) => TestCacheHost.CacheAside(o =>
    {
        o.Expiration = TimeSpan.FromMinutes(1);
        o.StaleWhileRevalidate = TimeSpan.FromMinutes(2);
        o.FailSafeMaxStaleness = failSafe;
    });

    [Fact]
    public async Task Expired_key_inside_the_window_is_served_at_once_and_refreshed_once_in_the_background()
    {
        using var host = RevalidatingHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        using var hits = host.Counter(CacheDiagnostics.Hits);
        var refresh = new GatedFactory();
        var first = host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load);
        await refresh.CompleteNextAsync("v1");
        Assert.Equal("v1", await first);

        host.Time.Advance(TimeSpan.FromMinutes(1.5));

        // 50 readers during the refresh: every one gets the stale value without waiting, and one load runs.
        var readers = Enumerable.Range(0, 50).Select(_ => host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load).AsTask()).ToArray();
        Assert.All(readers, r => Assert.True(r.IsCompletedSuccessfully, "a reader waited for the refresh"));
        Assert.All(readers, r => Assert.Equal("v1", r.Result));
        Assert.Equal(50, stale.Total("reason", "revalidate"));
        Assert.Equal(50, hits.Total());

        await refresh.CompleteNextAsync("v2");
        await WaitUntilAsync(async () => (await host.Strategy.TryGetAsync(1)).Value == "v2");
        Assert.Equal(2, refresh.Calls);
        Assert.Equal("v2", await host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load));
    }

    [Fact]
    public async Task Past_the_window_the_reader_waits_for_the_load_and_gets_the_fresh_value()
    {
        using var host = RevalidatingHost();
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);
        host.Database.Seed(1, "v2");

        host.Time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromTicks(1));

        Assert.Equal("v2", await host.Strategy.GetAsync(1));
        Assert.Equal(0, stale.Total());
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task A_longer_fail_safe_retention_does_not_widen_the_revalidate_window()
    {
        using var host = RevalidatingHost(failSafe: TimeSpan.FromHours(1));
        using var stale = host.Counter(CacheDiagnostics.StaleServed);
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);
        host.Database.Seed(1, "v2");

        // Expired 10 minutes ago: kept for fail-safe, but too old to be served before the loader is asked.
        host.Time.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal("v2", await host.Strategy.GetAsync(1));
        Assert.Equal(0, stale.Total());
    }

    [Fact]
    public async Task A_failing_refresh_is_logged_and_the_stale_value_keeps_being_served_inside_the_window()
    {
        using var host = RevalidatingHost();
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);
        host.Database.LoadFailure = new TimeoutException("database down");
        host.Time.Advance(TimeSpan.FromMinutes(1.5));

        Assert.Equal("v1", await host.Strategy.GetAsync(1));
        await WaitUntilAsync(() => Task.FromResult(host.Logs.GetSnapshot().Any(r => r.Level == LogLevel.Warning && r.Exception is TimeoutException)));
        Assert.Equal("v1", await host.Strategy.GetAsync(1));

        // Once the database is back, the next refresh stores the current row.
        host.Database.LoadFailure = null;
        host.Database.Seed(1, "v2");
        Assert.Equal("v1", await host.Strategy.GetAsync(1));
        await WaitUntilAsync(async () => (await host.Strategy.TryGetAsync(1)).Value == "v2");
    }

    [Fact]
    public async Task An_invalidation_during_the_refresh_fences_the_refresh_out()
    {
        using var host = RevalidatingHost();
        var refresh = new GatedFactory();
        var first = host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load);
        await refresh.CompleteNextAsync("v1");
        await first;
        host.Time.Advance(TimeSpan.FromMinutes(1.5));

        Assert.Equal("v1", await host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load));
        await refresh.WaitForCallAsync(2);

        // The row changes and the key is invalidated while the refresh still holds the old row.
        await host.Strategy.InvalidateAsync(1);
        await refresh.CompleteNextAsync("read before the update");

        var reread = host.Strategy.GetOrLoadAsync(1, refresh, GatedFactory.Load);
        Assert.Equal("after the update", await refresh.CompleteNextAsync("after the update"));
        Assert.Equal("after the update", await reread);
    }

    [Fact]
    public async Task GetMany_serves_expired_keys_inside_the_window_and_refreshes_them_in_the_background()
    {
        using var host = RevalidatingHost();
        host.Database.Seed(1, "a1").Seed(2, "b1");
        await host.Strategy.GetManyAsync([1, 2]);
        host.Database.Seed(1, "a2").Seed(2, "b2");
        host.Time.Advance(TimeSpan.FromMinutes(1.5));

        var served = await host.Strategy.GetManyAsync([1, 2]);

        Assert.Equal("a1", served[1]);
        Assert.Equal("b1", served[2]);
        await WaitUntilAsync(async () => (await host.Strategy.TryGetAsync(1)).Value == "a2" && (await host.Strategy.TryGetAsync(2)).Value == "b2");
    }

    [Fact]
    public void Negative_window_is_rejected_at_start_up_naming_the_setting()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
        {
            using var host = TestCacheHost.CacheAside(o => o.StaleWhileRevalidate = TimeSpan.FromSeconds(-1));
            _ = host.Strategy;
        });
        Assert.Contains("StaleWhileRevalidate", error.Message, StringComparison.Ordinal);
        Assert.Contains("-00:00:01", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting for the background refresh");
            await Task.Delay(5);
        }
    }

    /// <summary>A factory whose calls wait until the test completes them, one at a time, in call order.</summary>
    private sealed class GatedFactory
    {
        public static readonly Func<int, GatedFactory, CancellationToken, ValueTask<LoadResult<string>>> Load =
            static async (_, gate, ct) => LoadResult.Found(await gate.NextAsync(ct));

        private readonly Channel<TaskCompletionSource<string>> _pending = Channel.CreateUnbounded<TaskCompletionSource<string>>();
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async Task WaitForCallAsync(int count)
        {
            await WaitUntilAsync(() => Task.FromResult(Calls >= count));
        }

        /// <summary>Waits for the next call and makes it return <paramref name="value"/>.</summary>
        public async Task<string> CompleteNextAsync(string value)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var next = await _pending.Reader.ReadAsync(timeout.Token);
            next.SetResult(value);
            return value;
        }

        private Task<string> NextAsync(CancellationToken cancellationToken)
        {
            var source = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Increment(ref _calls);
            Assert.True(_pending.Writer.TryWrite(source));
            return source.Task.WaitAsync(cancellationToken);
        }
    }
}
