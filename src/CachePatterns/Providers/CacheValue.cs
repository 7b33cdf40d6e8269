namespace CachePatterns.Providers;

/// <summary>A cached value, or a cached "not found" (negative caching).</summary>
/// <typeparam name="TValue">The type of the value.</typeparam>
/// <param name="Exists">Whether the database had a value.</param>
/// <param name="Value">The value, when it exists.</param>
public readonly record struct CacheValue<TValue>(bool Exists, TValue? Value)
{
    /// <summary>Gets the cached "not found".</summary>
    public static CacheValue<TValue> NotFound => default;

    /// <summary>Creates a cached value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The cached value.</returns>
    public static CacheValue<TValue> Of(TValue value) => new(true, value);
}
