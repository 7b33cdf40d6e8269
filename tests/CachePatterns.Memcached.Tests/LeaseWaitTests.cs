using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Another process holds the key's fill lease and its loader is slow (longer than the one second readers used to
/// wait): with default options the other process waits while that lease is alive, for a single read and for a batch
/// alike, so the key is loaded once across both.
/// </summary>

public sealed class LeaseWaitTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_slow_load_in_one_process_is_waited_for_by_the_other(bool batch)
    {
        fixture.EnsureRunning();
        var instance = $"l{Guid.NewGuid():N}:";
        var loader = new GatedLoader();
        await using var first = Container(instance, loader);
        await using var second = Container(instance, loader);
        var a = first.GetRequiredService<ICacheStrategy<int, string>>();
        var b = second.GetRequiredService<ICacheStrategy<int, string>>();
        await b.TryGetAsync(0);

        var holder = a.GetAsync(1).AsTask();
        await Poll.UntilAsync(() => loader.Loads == 1, "the first load holds the lease", TimeSpan.FromSeconds(10));
        var waiter = batch ? b.GetManyAsync([1]).AsTask().ContinueWith(t => t.Result.GetValueOrDefault(1), TaskScheduler.Default) : b.GetAsync(1).AsTask();

        // The holder is slower than the old one-second bound of the wait.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        loader.Gate.SetResult();

        Assert.Equal("loaded-1", await holder.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("loaded-1", await waiter.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, loader.Loads);
    }

    private ServiceProvider Container(string instance, GatedLoader loader) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = instance;
                o.OperationTimeout = TimeSpan.FromSeconds(3);
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader)
            .Services.BuildServiceProvider();
}
