namespace CachePatterns.Resilience.Internal;

/// <summary>A provider call was skipped because the cache's circuit breaker is open.</summary>
internal sealed class CacheCircuitOpenException : Exception
{
    public CacheCircuitOpenException(string cacheName)
        : base($"The circuit breaker of cache '{cacheName}' is open: the provider is not called until the break ends.")
    {
    }
}
