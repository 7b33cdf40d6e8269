using System.Diagnostics.CodeAnalysis;
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

    /// <remarks>Inlined into every hit path: the check is two compares, the throwing is out of line.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NotNullKey<TKey>(TKey key, [CallerArgumentExpression(nameof(key))] string? name = null)
    {
        if (key is null || (key is string { Length: 0 }))
        {
            ThrowBadKey(key is null, name);
        }
    }

    [DoesNotReturn]
    private static void ThrowBadKey(bool isNull, string? name) =>
        throw (isNull ? new ArgumentNullException(name, "The cache key must not be null.") : new ArgumentException("The cache key must not be empty.", name));
}
