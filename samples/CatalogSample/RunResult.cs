namespace CatalogSample;

/// <summary>What one replay of the workload measured.</summary>
public sealed record RunResult(
    int Operations,
    TimeSpan Elapsed,
    LatencySummary Reads,
    LatencySummary BatchReads,
    LatencySummary Updates,
    long ProductsNotFound)
{
    public double Throughput => Operations / Elapsed.TotalSeconds;
}
