using CachePatterns.Redis;
using CachePatterns.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>Registers the Redis provider on a <see cref="CachePatternsBuilder"/>.</summary>
public static class CachePatternsRedisBuilderExtensions
{
    /// <summary>
    /// Uses Redis for this cache. The options are validated when the host starts (messages name the bad setting); the
    /// connection is made on first use, so the application starts while Redis is down.
    /// </summary>
    /// <param name="builder">The cache's builder.</param>
    /// <param name="configure">Sets at least <see cref="RedisCacheProviderOptions.Configuration"/> or <see cref="RedisCacheProviderOptions.ConfigurationOptions"/>.</param>
    /// <returns>The builder.</returns>
    public static CachePatternsBuilder UseRedis(this CachePatternsBuilder builder, Action<RedisCacheProviderOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisCacheProviderOptions>, RedisCacheProviderOptionsValidator>());
        builder.Services.AddOptions<RedisCacheProviderOptions>(builder.CacheName).Configure(configure).ValidateOnStart();
        var name = builder.CacheName;
        return builder.UseProvider(sp => new RedisCacheProvider(
            Options.Create(sp.GetRequiredService<IOptionsMonitor<RedisCacheProviderOptions>>().Get(name)),
            sp.GetService<ILogger<RedisCacheProvider>>(),
            sp.GetService<TimeProvider>()));
    }
}
