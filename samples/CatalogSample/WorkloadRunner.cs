using System.Diagnostics;

namespace CatalogSample;

/// <summary>
/// Replays a <see cref="Workload"/> against an <see cref="IProductCatalog"/> with a few concurrent workers
/// (worker w takes operations w, w + n, w + 2n, ...) and times every operation with <see cref="Stopwatch.GetTimestamp"/>.
/// </summary>
public static class WorkloadRunner
{
    public static async Task<RunResult> RunAsync(
        IProductCatalog catalog, Workload workload, int workers, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);

        var started = Stopwatch.GetTimestamp();
        var tasks = new Task<WorkerTimings>[workers];
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            tasks[w] = Task.Run(() => RunWorkerAsync(catalog, workload.Operations, worker, workers, clock, cancellationToken), cancellationToken);
        }

        var timings = await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);

        return new RunResult(
            workload.Operations.Count,
            elapsed,
            new LatencySummary(timings.SelectMany(t => t.Reads)),
            new LatencySummary(timings.SelectMany(t => t.BatchReads)),
            new LatencySummary(timings.SelectMany(t => t.Updates)),
            timings.Sum(t => t.NotFound));
    }

    private static async Task<WorkerTimings> RunWorkerAsync(
        IProductCatalog catalog,
        IReadOnlyList<WorkloadOperation> operations,
        int worker,
        int workers,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var timings = new WorkerTimings(operations.Count / workers + 1);
        for (var i = worker; i < operations.Count; i += workers)
        {
            var operation = operations[i];
            var started = Stopwatch.GetTimestamp();
            switch (operation.Kind)
            {
                case OperationKind.Read:
                    var product = await catalog.GetAsync(operation.ProductId, cancellationToken);
                    timings.Reads.Add(Stopwatch.GetTimestamp() - started);
                    timings.NotFound += product is null ? 1 : 0;
                    break;

                case OperationKind.BatchRead:
                    var products = await catalog.GetManyAsync(operation.BatchIds, cancellationToken);
                    timings.BatchReads.Add(Stopwatch.GetTimestamp() - started);
                    timings.NotFound += operation.BatchIds.Length - products.Count;
                    break;

                case OperationKind.UpdatePrice:
                case OperationKind.UpdateStock:
                    // A typical update: read the current product, change one field, save the whole row.
                    var current = await catalog.GetAsync(operation.ProductId, cancellationToken);
                    if (current is null)
                    {
                        timings.NotFound++;
                        break;
                    }

                    var now = clock.GetUtcNow();
                    var updated = operation.Kind == OperationKind.UpdatePrice
                        ? current.WithPrice(Math.Max(0.01m, current.Price * (100 + operation.Argument) / 100m), now)
                        : current.WithStock(operation.Argument, now);
                    await catalog.SaveAsync(updated, cancellationToken);
                    timings.Updates.Add(Stopwatch.GetTimestamp() - started);
                    break;

                default:
                    throw new InvalidOperationException($"Unknown operation kind {operation.Kind}.");
            }
        }

        return timings;
    }

    private sealed class WorkerTimings(int capacity)
    {
        public List<long> Reads { get; } = new(capacity);

        public List<long> BatchReads { get; } = new(capacity / 10);

        public List<long> Updates { get; } = new(capacity / 10);

        public long NotFound { get; set; }
    }
}
