namespace CachePatterns.Benchmarks;

/// <summary>
/// Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s, by inverting the cumulative
/// distribution with a binary search. Deterministic for a given seed.
/// </summary>
public sealed class ZipfDistribution
{
    private readonly double[] _cumulative;

    public ZipfDistribution(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Exponent = exponent;
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
    }

    public int Count => _cumulative.Length;

    public double Exponent { get; }

    /// <summary>Gets the probability mass of the <paramref name="top"/> most popular ranks: the hit ratio of an oracle cache that holds exactly them.</summary>
    public double MassOfTop(int top) => top <= 0 ? 0 : _cumulative[Math.Min(top, Count) - 1];

    public int Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index >= 0 ? index : ~index, Count - 1);
    }

    /// <summary>Draws <paramref name="length"/> keys with a fixed seed; keys are ranks spread over the int range so popularity does not follow hash order.</summary>
    public int[] Trace(int length, int seed)
    {
        var random = new Random(seed);
        var trace = new int[length];
        for (var i = 0; i < trace.Length; i++)
        {
            trace[i] = KeyOf(Sample(random));
        }

        return trace;
    }

    /// <summary>Maps a rank to a key: a bijection on int (multiplication by an odd constant) so hot keys are not adjacent integers.</summary>
    public static int KeyOf(int rank) => unchecked(rank * -1640531535);
}
