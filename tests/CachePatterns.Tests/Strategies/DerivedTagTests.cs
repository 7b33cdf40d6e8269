using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Strategies;

/// <summary>
/// Strategies derive tags from their entity (<see cref="CachePatternsBuilder.DeriveTags{TKey, TValue}"/>): a write
/// invalidates the cached queries tagged with the previous and the new value's tags, a removal the previous value's; the
/// previous value is the cached entry, or the loader's row when the key is not cached. Rows here are
/// <c>"category|name"</c>; queries are ad-hoc entries tagged <c>category:N</c>.
/// </summary>
public sealed class DerivedTagTests
{
    public static TheoryData<CacheStrategyKind> Kinds => new() { CacheStrategyKind.CacheAside, CacheStrategyKind.WriteThrough };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_write_invalidates_the_queries_of_the_previous_and_the_new_category_and_a_removal_the_previous(CacheStrategyKind kind)
    {
        using var host = Host(kind);
        host.Database.Seed(1, "5|apple");
        var products = host.Strategy;
        var queries = host.Services.GetRequiredService<ICache>();
        await products.GetAsync(1);
        await CacheQueriesAsync(queries);

        // Previous value cached (category 5), new value in category 7: both pages are outdated, category 9's is not.
        await products.WriteAsync(1, "7|apple");
        Assert.Equal(new[] { false, false, true }, await CachedAsync(queries));
        Assert.Equal(1, host.Database.LoadCount);

        // Previous value not cached: the loader's row (category 7) gives its tags.
        await products.InvalidateAsync(1);
        await CacheQueriesAsync(queries);
        await products.WriteAsync(1, "5|apple");
        Assert.Equal(new[] { false, false, true }, await CachedAsync(queries));
        Assert.Equal(2, host.Database.LoadCount);

        await CacheQueriesAsync(queries);
        await products.RemoveAsync(1);
        Assert.Equal(new[] { false, true, true }, await CachedAsync(queries));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_entity_entry_carries_no_tag_and_a_bad_derived_tag_fails_the_write_before_the_database(CacheStrategyKind kind)
    {
        using var host = Host(kind);
        host.Database.Seed(1, "5|apple");
        var products = host.Strategy;
        var queries = host.Services.GetRequiredService<ICache>();
        await products.GetAsync(1);
        await queries.InvalidateTagAsync("category:5");
        Assert.Equal("5|apple", await products.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);

        var writes = host.Database.WriteCount;
        await Assert.ThrowsAsync<ArgumentException>(async () => await products.WriteAsync(1, "|apple"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await products.WriteAsync(1, "*|apple"));
        Assert.Equal(writes, host.Database.WriteCount);
    }

    private static TestCacheHost Host(CacheStrategyKind kind)
    {
        void Tags(CachePatternsBuilder b) => b.DeriveTags<int, string>(row => [row.StartsWith('*') ? "*" : row.Split('|')[0].Length == 0 ? " " : "category:" + row.Split('|')[0]]);
        return kind == CacheStrategyKind.CacheAside ? TestCacheHost.CacheAside(builder: Tags) : TestCacheHost.WriteThrough(builder: Tags);
    }

    private static async Task CacheQueriesAsync(ICache queries)
    {
        foreach (var category in new[] { 5, 7, 9 })
        {
            await queries.GetOrLoadAsync($"page:{category}", _ => ValueTask.FromResult($"products of {category}"), new CacheEntryOptions { Tags = [$"category:{category}"] });
        }
    }

    private static async Task<bool[]> CachedAsync(ICache queries) =>
        [(await queries.TryGetAsync<string>("page:5")).Found, (await queries.TryGetAsync<string>("page:7")).Found, (await queries.TryGetAsync<string>("page:9")).Found];
}
