using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Tag invalidation across OS processes (a <c>CachePatterns.ConsistencyHost</c> child sharing three memcached nodes): an
/// invalidation in either process makes the entry a miss in the other, and a load this process began before the other
/// process invalidated its tag is not stored (the fill is fenced; the flight loads again).
/// </summary>
public sealed class CrossProcessTagTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Fact]
    public async Task A_tag_invalidated_in_another_process_is_a_miss_here_and_the_other_way_round()
    {
        var prefix = $"xt{Guid.NewGuid():N}:";
        using var other = await ConsistencyHostRun.StartTagHostAsync("memcached", string.Join(",", fixture.Addresses), prefix);
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                o.KeyPrefix = prefix;
                o.OperationTimeout = TimeSpan.FromSeconds(3);
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .Services.BuildServiceProvider();
        var cache = services.GetRequiredService<ICache>();

        await cache.SetAsync("p1", "v1", new CacheEntryOptions { Tags = ["t1"] });
        Assert.Equal("v1", await other.PeekAsync("p1"));
        await other.InvalidateTagAsync("t1");
        Assert.False((await cache.TryGetAsync<string>("p1")).Found);

        await other.SetTaggedAsync("p2", "v2", "t2");
        Assert.Equal((true, "v2"), await cache.TryGetAsync<string>("p2"));
        await cache.InvalidateTagAsync("t2");
        Assert.Null(await other.PeekAsync("p2"));

        var loads = 0;
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = cache.GetOrLoadAsync<int, string>(
            "p3",
            0,
            async (_, _) =>
            {
                var n = Interlocked.Increment(ref loads);
                if (n == 1)
                {
                    loading.SetResult();
                    await release.Task;
                }

                return $"load{n}";
            },
            new CacheEntryOptions { Tags = ["t3"] }).AsTask();
        await loading.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await other.InvalidateTagAsync("t3");
        release.SetResult();
        Assert.Equal("load2", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, loads);
        Assert.Equal("load2", await other.PeekAsync("p3"));
    }
}
