using CachePatterns;

namespace CatalogSample;

/// <summary>
/// Every operation goes through the cache strategy; whether a save invalidates the key (cache-aside) or stores the
/// new value (write-through) is decided by how the strategy was registered, not here.
/// </summary>
public sealed class CachedProductCatalog(ICacheStrategy<int, Product> cache) : IProductCatalog
{
    public ValueTask<Product?> GetAsync(int id, CancellationToken cancellationToken) =>
        cache.GetAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<int, Product>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken) =>
        cache.GetManyAsync(ids, cancellationToken);

    public ValueTask SaveAsync(Product product, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(product);
        return cache.WriteAsync(product.Id, product, cancellationToken: cancellationToken);
    }
}
