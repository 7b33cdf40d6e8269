using CachePatterns.Internal;

namespace CachePatterns;

/// <summary>Convenience overloads of <see cref="ICache"/> and <see cref="ICacheStrategy{TKey, TValue}"/>.</summary>
public static class CacheExtensions
{
    /// <summary>Reads a value, loading it with <paramref name="factory"/> on a miss.</summary>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="cache">The cache.</param>
    /// <param name="key">The key.</param>
    /// <param name="factory">Loads the value on a miss.</param>
    /// <param name="options">The entry's expiration; <see langword="null"/> uses the cache's defaults.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>The value.</returns>
    public static ValueTask<TValue> GetOrLoadAsync<TValue>(
        this ICache cache,
        string key,
        Func<CancellationToken, ValueTask<TValue>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(factory);

        // The built-in cache is called on its sealed class: a generic method called through an interface costs a
        // runtime lookup (~40 ns) on every hit. See docs/benchmarks.md.
        return cache is AdHocCache adHoc
            ? adHoc.GetOrLoadAsync(key, factory, static (f, ct) => f(ct), options, cancellationToken)
            : cache.GetOrLoadAsync(key, factory, static (f, ct) => f(ct), options, cancellationToken);
    }

    /// <summary>Reads a value, loading it with <paramref name="factory"/> on a miss instead of the registered loader.</summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="key">The key.</param>
    /// <param name="factory">Loads the value on a miss.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>The value, or <see langword="default"/> when the factory found none.</returns>
    public static ValueTask<TValue?> GetOrLoadAsync<TKey, TValue>(
        this ICacheStrategy<TKey, TValue> strategy,
        TKey key,
        Func<TKey, CancellationToken, ValueTask<LoadResult<TValue>>> factory,
        CancellationToken cancellationToken = default)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(factory);
        return strategy.GetOrLoadAsync(key, factory, static (k, f, ct) => f(k, ct), cancellationToken);
    }
}
