namespace CachePatterns.Benchmarks;

/// <summary>The skewed workload of the eviction comparison: Zipf-distributed reads over many more keys than the cache holds.</summary>
public static class SkewedWorkload
{
    public const int KeyCount = 100_000;
    public const int Capacity = 10_000;
    public const int Requests = 1_000_000;
    public const int Seed = 20_261_127;
    public const double DefaultExponent = 0.9;

    /// <summary>Gets the exponents the hit-ratio mode runs (the latency benchmark uses <see cref="DefaultExponent"/>).</summary>
    public static IReadOnlyList<double> Exponents { get; } = [0.9, 1.0];

    public static ZipfDistribution Distribution(double exponent) => new(KeyCount, exponent);

    public static int[] Trace(double exponent) => Distribution(exponent).Trace(Requests, Seed);
}
