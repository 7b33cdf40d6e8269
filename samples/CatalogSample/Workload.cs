namespace CatalogSample;

/// <summary>
/// A fixed list of operations over a Zipf-skewed key space, generated from a seed. Popularity ranks are mapped to
/// product ids through a seeded shuffle, so the hot products are spread over the table rather than ids 1, 2, 3.
/// </summary>
public sealed class Workload
{
    private Workload(WorkloadSettings settings, ZipfDistribution popularity, int[] idsByPopularity, WorkloadOperation[] operations)
    {
        Settings = settings;
        Popularity = popularity;
        ProductIdsByPopularity = idsByPopularity;
        Operations = operations;
    }

    public WorkloadSettings Settings { get; }

    public ZipfDistribution Popularity { get; }

    /// <summary>Gets the product ids, most requested first.</summary>
    public IReadOnlyList<int> ProductIdsByPopularity { get; }

    public IReadOnlyList<WorkloadOperation> Operations { get; }

    public int Count(OperationKind kind) => Operations.Count(op => op.Kind == kind);

    public static Workload Generate(WorkloadSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var random = new Random(settings.Seed);
        var popularity = new ZipfDistribution(settings.Products, settings.ZipfExponent);

        var idsByPopularity = Enumerable.Range(1, settings.Products).ToArray();
        random.Shuffle(idsByPopularity);

        var maxBatch = Math.Min(settings.MaxBatchSize, settings.Products);
        var minBatch = Math.Min(settings.MinBatchSize, maxBatch);
        var operations = new WorkloadOperation[settings.Operations];
        var batch = new HashSet<int>();
        for (var i = 0; i < operations.Length; i++)
        {
            var roll = random.NextDouble();
            var id = NextId();
            if (roll < settings.ReadFraction)
            {
                operations[i] = new WorkloadOperation(OperationKind.Read, id, [], 0);
            }
            else if (roll < settings.ReadFraction + settings.BatchReadFraction)
            {
                var size = random.Next(minBatch, maxBatch + 1);
                batch.Clear();
                batch.Add(id);
                while (batch.Count < size)
                {
                    batch.Add(NextId());
                }

                operations[i] = new WorkloadOperation(OperationKind.BatchRead, id, [.. batch], 0);
            }
            else if (random.Next(2) == 0)
            {
                operations[i] = new WorkloadOperation(OperationKind.UpdatePrice, id, [], random.Next(-10, 11));
            }
            else
            {
                operations[i] = new WorkloadOperation(OperationKind.UpdateStock, id, [], random.Next(0, 1_001));
            }
        }

        return new Workload(settings, popularity, idsByPopularity, operations);

        int NextId() => idsByPopularity[popularity.Sample(random)];
    }
}
