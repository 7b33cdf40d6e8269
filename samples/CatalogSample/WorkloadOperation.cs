namespace CatalogSample;

/// <summary>
/// One step of the workload, generated in advance so every scenario replays exactly the same operations.
/// </summary>
/// <param name="Kind">What the step does.</param>
/// <param name="ProductId">The product read or updated (the first one for a batch read).</param>
/// <param name="BatchIds">The distinct products of a batch read; empty otherwise.</param>
/// <param name="Argument">The price change in percent (<see cref="OperationKind.UpdatePrice"/>) or the new stock level.</param>
public readonly record struct WorkloadOperation(OperationKind Kind, int ProductId, int[] BatchIds, int Argument);
