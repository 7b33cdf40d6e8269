namespace CatalogSample;

/// <summary>What the workload calls: the same three operations with or without a cache in between.</summary>
public interface IProductCatalog
{
    ValueTask<Product?> GetAsync(int id, CancellationToken cancellationToken);

    ValueTask<IReadOnlyDictionary<int, Product>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken);

    ValueTask SaveAsync(Product product, CancellationToken cancellationToken);
}
