using CachePatterns;

namespace CatalogSample;

/// <summary>
/// After the workload: reads every product through the cache (<see cref="ICacheStrategy{TKey, TValue}.GetManyAsync"/>,
/// 100 at a time) and compares it with the row in the database. Products are read most popular first, because those
/// are the ones the cache still holds (reading the cold ones loads them and evicts others).
/// </summary>
public static class ConsistencyCheck
{
    private const int MaxReportedMismatches = 5;
    private const int BatchSize = 100;

    public static async Task<ConsistencyResult> RunAsync(
        ICacheStrategy<int, Product> cache,
        ProductRepository repository,
        CacheMetricsCollector metrics,
        IReadOnlyList<int> idsToCheck,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(idsToCheck);

        var rows = (await repository.FindAllAsync(cancellationToken)).ToDictionary(static p => p.Id);
        var hitsBefore = metrics.Snapshot().Hits;
        var matching = 0;
        var mismatches = new List<string>();
        foreach (var batch in idsToCheck.Chunk(BatchSize))
        {
            var cached = await cache.GetManyAsync(batch, cancellationToken);
            foreach (var id in batch)
            {
                cached.TryGetValue(id, out var fromCache);
                rows.TryGetValue(id, out var fromDatabase);
                if (Equals(fromCache, fromDatabase))
                {
                    matching++;
                }
                else if (mismatches.Count < MaxReportedMismatches)
                {
                    mismatches.Add($"product {id}: cache has {Describe(fromCache)}, database has {Describe(fromDatabase)}");
                }
            }
        }

        return new ConsistencyResult(idsToCheck.Count, matching, metrics.Snapshot().Hits - hitsBefore, mismatches);
    }

    private static string Describe(Product? product) => product is null ? "nothing" : product.ToString();
}
