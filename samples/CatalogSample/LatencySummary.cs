using System.Diagnostics;

namespace CatalogSample;

/// <summary>Percentiles of a set of <see cref="Stopwatch.GetTimestamp"/> durations (nearest-rank method).</summary>
public sealed class LatencySummary
{
    private readonly long[] _sorted;

    public LatencySummary(IEnumerable<long> durations)
    {
        ArgumentNullException.ThrowIfNull(durations);
        _sorted = [.. durations];
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public TimeSpan P50 => Percentile(50);

    public TimeSpan P95 => Percentile(95);

    public TimeSpan P99 => Percentile(99);

    public TimeSpan Percentile(double percent)
    {
        if (_sorted.Length == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (int)Math.Ceiling(percent / 100.0 * _sorted.Length);
        return Stopwatch.GetElapsedTime(0, _sorted[Math.Clamp(rank, 1, _sorted.Length) - 1]);
    }
}
