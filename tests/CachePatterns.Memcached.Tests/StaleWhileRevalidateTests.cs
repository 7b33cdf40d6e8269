using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// The core's stale-while-revalidate over memcached with two application instances (two DI containers, two providers):
/// both serve the stale value at once, exactly one of them reloads it, and then both read the fresh value.
/// </summary>
public sealed class StaleWhileRevalidateTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Fact]
    public async Task Two_instances_serve_the_stale_value_and_only_one_reloads_it()
    {
        fixture.EnsureRunning();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var prefix = $"swr{Guid.NewGuid():N}:";
        var loader = new GatedLoader();
        RecordingProvider? recordA = null, recordB = null;
        await using var a = Build(time, loader, prefix, p => recordA = p);
        await using var b = Build(time, loader, prefix, p => recordB = p);
        var instanceA = a.GetRequiredService<ICacheStrategy<int, string>>();
        var instanceB = b.GetRequiredService<ICacheStrategy<int, string>>();

        Assert.Equal("v1", await instanceA.GetAsync(7));
        Assert.Equal("v1", await instanceB.GetAsync(7));
        Assert.Equal(1, loader.Loads);

        // Past the expiration, within the stale-while-revalidate window; the database is slow now.
        time.Advance(TimeSpan.FromMinutes(2));
        loader.Close();
        Assert.Equal("v1", await instanceA.GetAsync(7));
        await Poll.UntilAsync(() => loader.Loads == 2, "instance A's background refresh to start loading");

        // B also serves the stale value at once; its background refresh finds A's claim and leaves the reload to A.
        Assert.Equal("v1", await instanceB.GetAsync(7));
        await Poll.UntilAsync(() => recordB!.LeaseLookups.Contains(CacheLookupStatus.StaleLeaseHeldElsewhere), "instance B to see the refresh held by A");
        Assert.Equal("v1", await instanceB.GetAsync(7));

        loader.Open();
        await Poll.UntilAsync(async () => await instanceB.GetAsync(7) == "v2", "instance B to read the refreshed value");
        Assert.Equal("v2", await instanceA.GetAsync(7));
        Assert.Equal(2, loader.Loads);
        Assert.DoesNotContain(CacheLookupStatus.StaleLeaseHeldElsewhere, recordA!.LeaseLookups);
    }

    private ServiceProvider Build(TimeProvider time, GatedLoader loader, string prefix, Action<RecordingProvider> created)
    {
        var services = new ServiceCollection().AddSingleton(time);
        services.AddCachePatterns()
            .UseProvider(_ =>
            {
                var provider = new RecordingProvider(new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = prefix)), time));
                created(provider);
                return provider;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader, configure: o =>
            {
                o.Expiration = TimeSpan.FromMinutes(1);
                o.StaleWhileRevalidate = TimeSpan.FromMinutes(10);
                o.Jitter = 0;
            });
        return services.BuildServiceProvider();
    }

    /// <summary>Counts loads and answers v1, v2, …; while closed, loads wait.</summary>
    private sealed class GatedLoader : ICacheLoader<int, string>
    {
        private TaskCompletionSource _gate = CreateOpen();
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            var load = Interlocked.Increment(ref _loads);
            await _gate.Task.WaitAsync(cancellationToken);
            return LoadResult.Found($"v{load}");
        }

        private static TaskCompletionSource CreateOpen()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }
    }
}
