using CachePatterns.Hybrid;
using CachePatterns.Hybrid.Internal;
using CachePatterns.Internal;
using CachePatterns.Validation;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>Registers Microsoft's <see cref="HybridCache"/> abstraction backed by a CachePatterns cache.</summary>
public static class HybridCacheBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="HybridCache"/> over this cache's provider: keyed by the cache's name, and unkeyed for the
    /// default cache (replacing Microsoft's implementation if <c>services.AddHybridCache()</c> was called too). Its entries
    /// live in a key namespace of their own; serializers registered the HybridCache way
    /// (<see cref="IHybridCacheSerializer{T}"/>, <see cref="IHybridCacheSerializerFactory"/>) are used. Flags and options:
    /// see docs/hybridcache.md.
    /// </summary>
    /// <param name="builder">The cache's builder.</param>
    /// <param name="configure">Configures default entry options and limits.</param>
    /// <returns>The builder.</returns>
    public static CachePatternsBuilder AddHybridCache(this CachePatternsBuilder builder, Action<CachePatternsHybridCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CachePatternsHybridCacheOptions>, CachePatternsHybridCacheOptionsValidator>());
        var options = services.AddOptions<CachePatternsHybridCacheOptions>(builder.CacheName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var cacheName = builder.CacheName;
        services.AddKeyedSingleton<HybridCache>(cacheName, (sp, _) => new CachePatternsHybridCache(
            sp.GetRequiredKeyedService<CacheInstance>(cacheName),
            sp.GetRequiredService<IOptionsMonitor<CacheStrategyOptions>>().Get(cacheName),
            sp.GetRequiredService<IOptionsMonitor<CachePatternsHybridCacheOptions>>().Get(cacheName),
            sp));
        if (cacheName == CachePatternsBuilder.DefaultCacheName)
        {
            services.AddSingleton(sp => sp.GetRequiredKeyedService<HybridCache>(CachePatternsBuilder.DefaultCacheName));
        }

        return builder;
    }
}
