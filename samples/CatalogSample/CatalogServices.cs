using CachePatterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CatalogSample;

/// <summary>The DI setup an application would have, for one of the two strategies.</summary>
public static class CatalogServices
{
    public static ServiceProvider Build(CatalogDatabase database, CacheStrategyKind kind, int maxEntries)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(database);

        // One in-memory cache, bounded below the catalogue's size so the least recently used products get evicted.
        var cache = services.AddCachePatterns().UseMemoryProvider(o => o.MaxEntries = maxEntries);

        // ProductRepository is both ICacheLoader<int, Product> and ICacheWriter<int, Product>; it is registered as a singleton.
        switch (kind)
        {
            case CacheStrategyKind.CacheAside:
                // Reads load on a miss; a write updates the database, then removes the key from the cache.
                cache.AddCacheAside<int, Product, ProductRepository>(o => o.Expiration = TimeSpan.FromMinutes(10));
                break;

            case CacheStrategyKind.WriteThrough:
                // Reads load on a miss; a write updates the database, then stores the new value in the cache.
                cache.AddWriteThrough<int, Product, ProductRepository>(o => o.Expiration = TimeSpan.FromMinutes(10));
                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown strategy kind.");
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // Without a generic host nothing runs the ValidateOnStart checks of the cache options: run them now.
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }
}
