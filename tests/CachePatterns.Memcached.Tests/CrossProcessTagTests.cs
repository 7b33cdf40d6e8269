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

        await CrossProcessTagScenario.RunAsync(cache, other);
    }
}
