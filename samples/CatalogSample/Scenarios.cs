using CachePatterns;
using CachePatterns.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace CatalogSample;

/// <summary>
/// The three runs of the sample. Each gets a freshly seeded database, so all three replay the same workload
/// on the same rows: directly against SQLite, then through each cache strategy.
/// </summary>
public static class Scenarios
{
    public static async Task<ScenarioResult> RunWithoutCacheAsync(
        string name, SampleOptions options, Workload workload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(workload);
        using var database = await CreateDatabaseAsync(options, cancellationToken);
        var repository = new ProductRepository(database);
        await WarmUpAsync(repository, options.Products, cancellationToken);

        var before = repository.Statements;
        var run = await WorkloadRunner.RunAsync(new DatabaseProductCatalog(repository), workload, options.Workers, TimeProvider.System, cancellationToken);
        return new ScenarioResult(name, run, repository.Statements - before);
    }

    public static async Task<ScenarioResult> RunWithCacheAsync(
        string name, CacheStrategyKind kind, SampleOptions options, Workload workload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(workload);
        using var database = await CreateDatabaseAsync(options, cancellationToken);
        await using var services = CatalogServices.Build(database, kind, options.MaxEntries);
        var cache = services.GetRequiredService<ICacheStrategy<int, Product>>();
        var repository = services.GetRequiredService<ProductRepository>();
        await WarmUpAsync(repository, options.Products, cancellationToken);

        using var metrics = new CacheMetricsCollector(cache.Name);
        var before = repository.Statements;
        var run = await WorkloadRunner.RunAsync(new CachedProductCatalog(cache), workload, options.Workers, TimeProvider.System, cancellationToken);
        var statements = repository.Statements - before;
        var cacheMetrics = metrics.Snapshot();
        var entries = await CountEntriesAsync(services, cache.Name, cancellationToken);

        var consistency = await ConsistencyCheck.RunAsync(cache, repository, metrics, workload.ProductIdsByPopularity, cancellationToken);
        return new ScenarioResult(name, run, statements, cacheMetrics, entries, consistency);
    }

    /// <summary>Asks the provider's health check how many entries the strategy's store holds ("{strategy}.entries").</summary>
    private static async Task<int?> CountEntriesAsync(IServiceProvider services, string strategyName, CancellationToken cancellationToken)
    {
        var provider = services.GetRequiredKeyedService<ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
        var health = await provider.CheckHealthAsync(cancellationToken);
        return health.Data?.GetValueOrDefault(strategyName + ".entries") as int?;
    }

    private static Task<CatalogDatabase> CreateDatabaseAsync(SampleOptions options, CancellationToken cancellationToken) =>
        CatalogDatabase.CreateAsync(CatalogSeedData.Generate(options.Products, options.Seed), cancellationToken);

    /// <summary>
    /// Runs the repository's queries a few hundred times before measuring, so the JIT and SQLite's page cache are
    /// warm and the first scenario is not penalised. Writes a product back unchanged; the cache is not touched.
    /// </summary>
    private static async Task WarmUpAsync(ProductRepository repository, int products, CancellationToken cancellationToken)
    {
        var ids = Enumerable.Range(1, Math.Min(products, 500)).ToArray();
        foreach (var id in ids)
        {
            await repository.FindAsync(id, cancellationToken);
        }

        foreach (var chunk in ids.Chunk(20))
        {
            await repository.FindManyAsync(chunk, cancellationToken);
        }

        foreach (var id in ids.Take(50))
        {
            if (await repository.FindAsync(id, cancellationToken) is { } product)
            {
                await repository.WriteAsync(id, product, cancellationToken);
            }
        }
    }
}
