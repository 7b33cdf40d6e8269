namespace CachePatterns;

/// <summary>Timestamp arithmetic that saturates at <see cref="long.MaxValue"/> ("never").</summary>
internal static class Saturating
{
    public static long Add(long a, long b)
    {
        var sum = unchecked(a + b);
        return ((a ^ sum) & (b ^ sum)) < 0 ? long.MaxValue : sum;
    }

    /// <summary>Converts a duration to timestamp ticks of the given provider.</summary>
    public static long ToTimestampTicks(TimeSpan duration, TimeProvider time)
    {
        if (duration == TimeSpan.MaxValue)
        {
            return long.MaxValue;
        }

        var seconds = duration.TotalSeconds * time.TimestampFrequency;
        return seconds >= long.MaxValue ? long.MaxValue : (long)seconds;
    }
}
