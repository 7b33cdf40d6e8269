using CachePatterns.Memcached;
using CachePatterns.Memcached.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>Registers the memcached provider on a cache.</summary>
public static class MemcachedCachePatternsBuilderExtensions
{
    /// <summary>
    /// Uses memcached as this cache's provider. The options are validated when the application starts (a malformed
    /// server names itself in the error); no connection is made until the cache is first used.
    /// </summary>
    /// <param name="builder">The cache's builder.</param>
    /// <param name="configure">Configures the servers and limits.</param>
    /// <returns>The builder.</returns>
    public static CachePatternsBuilder UseMemcached(this CachePatternsBuilder builder, Action<MemcachedCacheProviderOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<MemcachedCacheProviderOptions>(builder.CacheName).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MemcachedCacheProviderOptions>, MemcachedCacheProviderOptionsValidator>());
        var name = builder.CacheName;
        return builder.UseProvider(sp => new MemcachedCacheProvider(
            Options.Create(sp.GetRequiredService<IOptionsMonitor<MemcachedCacheProviderOptions>>().Get(name)),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
    }
}
