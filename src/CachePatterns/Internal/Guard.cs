using System.Runtime.CompilerServices;

namespace CachePatterns;

/// <summary>Argument checks whose messages name the bad value.</summary>
internal static class Guard
{
    public static TimeSpan? PositiveOrNull(TimeSpan? value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, v, $"{name} must be positive, but was {v}.");
        }

        return value;
    }

    public static TimeSpan Positive(TimeSpan value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, but was {value}.");
        }

        return value;
    }

    public static void NotNullKey<TKey>(TKey key, [CallerArgumentExpression(nameof(key))] string? name = null)
    {
        if (key is null)
        {
            throw new ArgumentNullException(name, "The cache key must not be null.");
        }

        if (key is string s && s.Length == 0)
        {
            throw new ArgumentException("The cache key must not be empty.", name);
        }
    }
}
