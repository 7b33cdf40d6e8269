namespace CatalogSample;

/// <summary>The shape of the generated workload.</summary>
public sealed record WorkloadSettings
{
    public required int Operations { get; init; }

    public required int Products { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Gets the Zipf exponent of key popularity; 1.0 is the classic web-traffic skew.</summary>
    public double ZipfExponent { get; init; } = 1.0;

    public double BatchReadFraction { get; init; } = 0.05;

    public double UpdateFraction { get; init; } = 0.05;

    public int MinBatchSize { get; init; } = 10;

    public int MaxBatchSize { get; init; } = 20;

    public double ReadFraction => 1.0 - BatchReadFraction - UpdateFraction;
}
