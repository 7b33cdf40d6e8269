namespace CachePatterns.Providers;

/// <summary>
/// A cache server or an in-process store. The core asks it for one typed <see cref="ICacheStore{TKey, TValue}"/>
/// per strategy; everything provider-specific (connections, key encoding, serialization, leases on
/// the server) lives behind that store.
/// </summary>
/// <remarks>See docs/architecture.md, "The provider contract", for the rules every provider keeps.</remarks>
public interface ICacheProvider : IDisposable
{
    /// <summary>Gets the provider's name for metrics and logs (for example <c>memory</c> or <c>redis</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Gets a value indicating whether the provider lives in this process and cannot time out.
    /// In-process stores are called directly; out-of-process ones go through the timeout and circuit breaker.
    /// </summary>
    bool IsInProcess { get; }

    /// <summary>Creates the store of one strategy.</summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="descriptor">What the store holds and how to encode it.</param>
    /// <returns>The store.</returns>
    ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull;

    /// <summary>Checks whether the provider is reachable and healthy.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The health.</returns>
    ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default);
}
