using CachePatterns.Routing;
using CachePatterns.Routing.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>Registers a <see cref="RoutingDataSource"/> on a <see cref="CachePatternsBuilder"/>.</summary>
public static class RoutingCachePatternsBuilderExtensions
{
    /// <summary>
    /// Registers a read/write router for the database behind this cache's loaders: a singleton <see cref="RoutingDataSource"/>
    /// keyed by the cache's name (and unkeyed for the first registration). The options are validated when the host starts
    /// (messages name the bad setting); the database is probed in the background, so the application starts while it is down.
    /// </summary>
    /// <param name="builder">The cache's builder.</param>
    /// <param name="configure">Sets <see cref="RoutingOptions.ConnectionString"/> (a host list) or <see cref="RoutingOptions.Endpoints"/>.</param>
    /// <returns>The builder.</returns>
    public static CachePatternsBuilder AddRouting(this CachePatternsBuilder builder, Action<RoutingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = builder.CacheName;
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RoutingOptions>, RoutingOptionsValidator>());
        builder.Services.AddOptions<RoutingOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new RoutingDataSource(
            sp.GetRequiredService<IOptionsMonitor<RoutingOptions>>().Get(name),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.TryAddSingleton(sp => sp.GetRequiredKeyedService<RoutingDataSource>(name));
        return builder;
    }
}
