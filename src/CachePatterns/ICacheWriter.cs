namespace CachePatterns;

/// <summary>
/// Writes values to and deletes them from the system of record. The cache strategy calls it
/// before it touches the cache, so the database always leads.
/// </summary>
/// <typeparam name="TKey">The type of the entity's key.</typeparam>
/// <typeparam name="TValue">The type of the cached entity.</typeparam>
public interface ICacheWriter<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Inserts or updates one value in the database.</summary>
    /// <param name="key">The key of the value.</param>
    /// <param name="value">The value to store.</param>
    /// <param name="cancellationToken">Cancels the database write.</param>
    /// <returns>A task that completes when the write is durable.</returns>
    ValueTask WriteAsync(TKey key, TValue value, CancellationToken cancellationToken);

    /// <summary>Deletes one value from the database.</summary>
    /// <param name="key">The key of the value.</param>
    /// <param name="cancellationToken">Cancels the database delete.</param>
    /// <returns>A task that completes when the delete is durable.</returns>
    ValueTask DeleteAsync(TKey key, CancellationToken cancellationToken);
}
