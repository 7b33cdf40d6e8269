namespace CatalogSample;

/// <summary>
/// Samples ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent: a few items get most of the
/// traffic, as with real catalogues. Uses the cumulative distribution and a binary search.
/// </summary>
public sealed class ZipfDistribution
{
    private readonly double[] _cumulative;

    public ZipfDistribution(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _cumulative = new double[count];
        var sum = 0.0;
        for (var rank = 0; rank < count; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, exponent);
            _cumulative[rank] = sum;
        }

        for (var rank = 0; rank < count; rank++)
        {
            _cumulative[rank] /= sum;
        }

        _cumulative[^1] = 1.0;
    }

    public int Count => _cumulative.Length;

    /// <summary>Gets the share of all requests that go to the <paramref name="ranks"/> most popular items.</summary>
    public double ShareOfTop(int ranks) => ranks <= 0 ? 0 : _cumulative[Math.Min(ranks, Count) - 1];

    public int Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return index >= 0 ? index : Math.Min(~index, Count - 1);
    }
}
