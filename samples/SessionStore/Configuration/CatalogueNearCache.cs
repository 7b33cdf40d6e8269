using CachePatterns;

namespace SessionStore.Configuration;

/// <summary>
/// On Redis the catalogue is served from each instance's memory: the near cache (L1) in front of the Redis provider.
/// An edit on any instance (write-through) or an order that takes stock (invalidation) drops the other instances' copies
/// through Redis, so their next page load reads the new price. Orders opt out (<see cref="CacheStrategyOptions.UseNearCache"/>:
/// an order is read by its owner, about once); sessions never use it (the <c>IDistributedCache</c> is the only copy).
/// </summary>
public static class CatalogueNearCache
{
    /// <summary>Turns the near cache on for this cache when <see cref="CacheSettings.NearCache"/> is set (the default).</summary>
    public static CachePatternsBuilder WithCatalogueNearCache(this CachePatternsBuilder cache, CacheSettings settings)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(settings);
        return settings.NearCache ? cache.WithNearCache() : cache;
    }
}
