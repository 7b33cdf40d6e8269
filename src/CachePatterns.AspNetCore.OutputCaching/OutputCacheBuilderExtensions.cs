using CachePatterns.AspNetCore.OutputCaching;
using CachePatterns.AspNetCore.OutputCaching.Internal;
using CachePatterns.Internal;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>Registers ASP.NET Core's <see cref="IOutputCacheStore"/> over a CachePatterns cache.</summary>
public static class OutputCacheBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="IOutputCacheStore"/> over this cache's provider (keyed by the cache's name, and unkeyed,
    /// replacing the in-memory store of <c>services.AddOutputCache()</c>): <c>EvictByTagAsync</c> evicts in every process
    /// sharing the provider, and a response rendered before an eviction of its key or tags is not stored after it.
    /// Call <c>services.AddOutputCache()</c> and <c>app.UseOutputCache()</c> as usual. See docs/outputcaching.md.
    /// </summary>
    /// <param name="builder">The cache's builder.</param>
    /// <param name="configure">Configures the key namespace and the in-memory bounds.</param>
    /// <returns>The builder.</returns>
    public static CachePatternsBuilder AddOutputCacheStore(this CachePatternsBuilder builder, Action<CachePatternsOutputCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddHttpContextAccessor();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CachePatternsOutputCacheOptions>, OutputCacheOptionsValidator>());
        var options = services.AddOptions<CachePatternsOutputCacheOptions>(builder.CacheName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var cacheName = builder.CacheName;
        services.AddKeyedSingleton<IOutputCacheStore>(cacheName, (sp, _) =>
        {
            var instance = sp.GetRequiredKeyedService<CacheInstance>(cacheName);
            var resolved = sp.GetRequiredService<IOptionsMonitor<CachePatternsOutputCacheOptions>>().Get(cacheName);
            instance.ClaimKeyPrefix(resolved.KeyPrefix, "the output-cache store");
            var instruments = new StrategyInstruments("outputcache", cacheName, instance.Telemetry, instance.Logger, instance.Time);
            var descriptor = new CacheStoreDescriptor<string, byte[]>(instruments.Name, resolved.KeyPrefix, ByteArrayCacheSerializer.Instance)
            {
                Observer = instruments,
                SizeOf = static b => b.Length,
                MaxEntries = resolved.MaxEntries,
                MaxBytes = resolved.MaxBytes,

                // Pages carry their policy's tags: a provider that stamps leases only once it has seen a tagged entry
                // (memcached) stamps them from the start, or the first page of every process would be fenced, not stored.
                EntriesCarryTags = true,
            };
            return new CachePatternsOutputCacheStore(instance, instance.CreateStore(descriptor, instruments), instruments, sp.GetService<IHttpContextAccessor>());
        });
        services.AddSingleton(sp => sp.GetRequiredKeyedService<IOutputCacheStore>(cacheName));
        return builder;
    }
}
