namespace CatalogSample;

/// <summary>The baseline: every operation goes to SQLite.</summary>
public sealed class DatabaseProductCatalog(ProductRepository repository) : IProductCatalog
{
    public async ValueTask<Product?> GetAsync(int id, CancellationToken cancellationToken) =>
        await repository.FindAsync(id, cancellationToken);

    public async ValueTask<IReadOnlyDictionary<int, Product>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        var products = await repository.FindManyAsync(ids, cancellationToken);
        return products.ToDictionary(static p => p.Id);
    }

    public ValueTask SaveAsync(Product product, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(product);
        return repository.WriteAsync(product.Id, product, cancellationToken);
    }
}
