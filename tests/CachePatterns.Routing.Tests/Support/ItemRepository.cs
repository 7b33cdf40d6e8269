namespace CachePatterns.Routing.Tests.Support;

/// <summary>The loader and writer of <c>items</c> through the router, as an application would write them.</summary>
public sealed class ItemRepository(RoutingDataSource router) : ICacheLoader<long, string>, ICacheWriter<long, string>
{
    public async ValueTask<LoadResult<string>> LoadAsync(long key, CancellationToken cancellationToken)
    {
        var value = await router.QueryFirstOrDefaultAsync<string>("SELECT value FROM items WHERE id = @key", new { key }, cancellationToken: cancellationToken);
        return value is null ? LoadResult.NotFound<string>() : LoadResult.Found(value);
    }

    public async ValueTask WriteAsync(long key, string value, CancellationToken cancellationToken) =>
        await router.ExecuteAsync(
            "INSERT INTO items VALUES (@key, @value) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
            new { key, value },
            cancellationToken);

    public async ValueTask DeleteAsync(long key, CancellationToken cancellationToken) =>
        await router.ExecuteAsync("DELETE FROM items WHERE id = @key", new { key }, cancellationToken);
}
