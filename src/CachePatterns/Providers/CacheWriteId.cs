namespace CachePatterns.Providers;

/// <summary>
/// Identifies one logical write of a <b>store</b> (<see cref="ICacheStore{TKey, TValue}.StoreAsync"/>,
/// <see cref="ICacheStore{TKey, TValue}.DeleteAsync"/>): every retry of the write carries the same id, so a provider
/// applies it at most once and a retry that arrives after a newer write of the key does not undo that write.
/// </summary>
/// <param name="Value">The id: random, never zero.</param>
public readonly record struct CacheWriteId(long Value)
{
    /// <summary>Creates a new random write id.</summary>
    /// <returns>The id.</returns>
    public static CacheWriteId New() => new(Random.Shared.NextInt64(1, long.MaxValue));
}
