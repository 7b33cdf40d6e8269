namespace CachePatterns.Resilience.Internal;

internal sealed partial class ResilientCacheStore<TKey, TValue>
{
    /// <summary>Key validation does no I/O: no timeout, no breaker, the provider's answer as it is.</summary>
    public void ValidateKey(TKey key) => _inner.ValidateKey(key);
}
