namespace CachePatterns.Benchmarks;

/// <summary>The loader of the hit benchmarks: completes synchronously; on a warm cache it is never called.</summary>
public sealed class ProductLoader : ICacheLoader<int, Product>
{
    public ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken) =>
        new(LoadResult.Found(Product.Sample with { Id = key }));
}
