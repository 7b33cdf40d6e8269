using CachePatterns;
using CachePatterns.Internal;
using CachePatterns.Memory;
using CachePatterns.Providers;
using CachePatterns.Resilience;
using CachePatterns.Serialization;
using CachePatterns.Validation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers CachePatterns in an <see cref="IServiceCollection"/>.</summary>
public static class CachePatternsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the default cache (in memory unless a provider is chosen) and returns its builder:
    /// <c>services.AddCachePatterns().AddCacheAside&lt;int, Product, ProductRepository&gt;()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The builder of the default cache.</returns>
    public static CachePatternsBuilder AddCachePatterns(this IServiceCollection services) =>
        services.AddCachePatterns(CachePatternsBuilder.DefaultCacheName);

    /// <summary>Adds a named cache with its own provider and strategies, resolved with <c>[FromKeyedServices(name)]</c>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="cacheName">The cache's name.</param>
    /// <returns>The builder of the cache.</returns>
    public static CachePatternsBuilder AddCachePatterns(this IServiceCollection services, string cacheName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheName);

        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CacheStrategyOptions>, CacheStrategyOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MemoryCacheProviderOptions>, MemoryCacheProviderOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CacheResilienceOptions>, CacheResilienceOptionsValidator>());
        services.AddOptions<CacheStrategyOptions>(cacheName).ValidateOnStart();
        services.AddOptions<CacheResilienceOptions>(cacheName).ValidateOnStart();
        services.AddOptions<MemoryCacheProviderOptions>(cacheName).ValidateOnStart();
        services.TryAddSingleton(sp => new CacheTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));

        services.TryAddKeyedSingleton(cacheName, (sp, _) =>
        {
            var time = sp.GetRequiredService<TimeProvider>();
            var registered = sp.GetKeyedService<ICacheProvider>(cacheName);
            var provider = registered
                ?? new MemoryCacheProvider(Options.Options.Create(sp.GetRequiredService<IOptionsMonitor<MemoryCacheProviderOptions>>().Get(cacheName)), time);
            return new CacheInstance(
                cacheName,
                provider,
                time,
                sp.GetRequiredService<CacheTelemetry>(),
                sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
                sp.GetRequiredService<IOptionsMonitor<CacheResilienceOptions>>().Get(cacheName),
                [.. sp.GetServices<ICacheSerializerFactory>().Reverse()],
                ownsProvider: registered is null,
                sp.GetRequiredService<IOptionsMonitor<CachePatterns.NearCache.NearCacheOptions>>().Get(cacheName));
        });
        services.TryAddKeyedSingleton<ICache>(cacheName, (sp, _) => new AdHocCache(
            sp.GetRequiredKeyedService<CacheInstance>(cacheName),
            sp.GetRequiredService<IOptionsMonitor<CacheStrategyOptions>>().Get(cacheName)));
        if (cacheName == CachePatternsBuilder.DefaultCacheName)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<ICache>(CachePatternsBuilder.DefaultCacheName));
        }

        return new CachePatternsBuilder(services, cacheName);
    }
}
