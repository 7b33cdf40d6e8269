using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Benchmarks;

/// <summary>Builds the library the way an application registers it, for the console modes.</summary>
public static class CachePatternsServices
{
    /// <summary>
    /// A cache-aside strategy for <see cref="Product"/> over the in-memory provider (a ConcurrentLru of
    /// <paramref name="maxEntries"/> entries), loading through <paramref name="loader"/>; no jitter, 1 h expiration.
    /// Also registers the default ad-hoc <see cref="ICache"/>.
    /// </summary>
    public static ServiceProvider CreateCacheAside(int maxEntries, CountingLoader loader)
    {
        var services = new ServiceCollection();
        services.AddSingleton(loader);
        services.AddCachePatterns()
            .UseMemoryProvider(o => o.MaxEntries = maxEntries)
            .AddCacheAside<int, Product, CountingLoader>(o =>
            {
                o.Jitter = 0;
                o.Expiration = TimeSpan.FromHours(1);
            });
        return services.BuildServiceProvider();
    }
}
