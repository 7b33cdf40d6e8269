using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Tag invalidation is fenced like key invalidation on three memcached nodes (docs/providers.md, "Tags"): two containers
/// (two processes), query results tagged by category, writers invalidating the tags — no read that began after an
/// invalidation returned gets an older result, nothing stale stays cached; the naive cache is caught.
/// </summary>
public sealed class TagConsistencyTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Fact]
    public async Task A_tagged_entry_loaded_before_a_tag_invalidation_is_never_served_after_it()
    {
        var prefix = $"tags{Guid.NewGuid():N}:";
        var reads = 0;
        for (var round = 0; round < 3; round++)
        {
            await using var one = Container(prefix);
            await using var two = Container(prefix);
            var report = await TagConsistencyChecker.RunAsync(
                [TagConsistencyChecker.Of(one.GetRequiredService<ICache>()), TagConsistencyChecker.Of(two.GetRequiredService<ICache>())],
                new TagCheckerOptions(OperationsPerWorker: 200));
            Assert.True(report.IsConsistent, $"round {round}: {report}");
            reads += report.Reads;
        }

        Assert.True(reads >= 1_000, $"only {reads} reads checked");
    }

    [Fact]
    public async Task The_checker_catches_a_cache_that_stamps_a_value_when_it_stores_it()
    {
        using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses, o => o.KeyPrefix = $"naive{Guid.NewGuid():N}:")));
        var caught = 0;
        for (var round = 0; round < 10 && caught == 0; round++)
        {
            var report = await TagConsistencyChecker.RunAsync([TagConsistencyChecker.Naive(provider)], new TagCheckerOptions(OperationsPerWorker: 200));
            caught += report.OlderThanCompletedWrite + report.StaleEntries.Count;
        }

        Assert.True(caught > 0, "the naive tagged cache was not caught in 10 rounds");
    }

    private ServiceProvider Container(string prefix) =>
        new ServiceCollection()
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

            // The machine is loaded: a slow call must not become a skipped fill or a failed invalidation here.
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .Services.BuildServiceProvider();
}
