using CachePatterns.Memory;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Concurrency;

/// <summary>
/// Tag invalidation is fenced like key invalidation (docs/architecture.md, "Tags"), in memory: two containers over one
/// shared store (two processes over one cache), query results tagged by category, writers invalidating the tags — no read
/// that began after an invalidation returned gets an older result, nothing stale stays cached; and the naive cache that
/// stamps a value when it stores it is caught by the same checker.
/// </summary>
public sealed class TagConsistencyTests
{
    [Fact]
    public async Task A_tagged_entry_loaded_before_a_tag_invalidation_is_never_served_after_it()
    {
        var shared = new SharedStoreProvider();
        try
        {
            var reads = 0;
            for (var round = 0; round < 3; round++)
            {
                await using var one = Container(shared);
                await using var two = Container(shared);
                var report = await TagConsistencyChecker.RunAsync(
                    [TagConsistencyChecker.Of(one.GetRequiredService<ICache>()), TagConsistencyChecker.Of(two.GetRequiredService<ICache>())],
                    new TagCheckerOptions());
                Assert.True(report.IsConsistent, $"round {round}: {report}");
                reads += report.Reads;
            }

            Assert.True(reads >= 3_000, $"only {reads} reads checked");
        }
        finally
        {
            shared.DisposeShared();
        }
    }

    [Fact]
    public async Task The_checker_catches_a_cache_that_stamps_a_value_when_it_stores_it()
    {
        using var provider = new MemoryCacheProvider();
        var caught = 0;
        for (var round = 0; round < 10 && caught == 0; round++)
        {
            var naive = TagConsistencyChecker.Naive(provider);
            var report = await TagConsistencyChecker.RunAsync([naive], new TagCheckerOptions());
            caught += report.OlderThanCompletedWrite + report.StaleEntries.Count;
        }

        Assert.True(caught > 0, "the naive tagged cache was not caught in 10 rounds");
    }

    private static ServiceProvider Container(SharedStoreProvider shared) =>
        new ServiceCollection().AddCachePatterns().UseProvider(_ => shared).Services.BuildServiceProvider();
}
