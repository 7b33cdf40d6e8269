using CachePatterns.Diagnostics.Internal;
using CachePatterns.Distributed;
using CachePatterns.Internal;
using CachePatterns.Memory;
using CachePatterns.NearCache;
using CachePatterns.Providers;
using CachePatterns.Resilience;
using CachePatterns.Serialization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CachePatterns;

/// <summary>
/// Configures one named cache: its provider, its resilience, and the strategies (entity types) it holds.
/// Returned by <c>services.AddCachePatterns(...)</c>; every method returns the builder to chain.
/// </summary>
public sealed class CachePatternsBuilder
{
    /// <summary>The name of the cache configured by <c>AddCachePatterns()</c> without a name.</summary>
    public const string DefaultCacheName = "default";

    internal CachePatternsBuilder(IServiceCollection services, string cacheName)
    {
        Services = services;
        CacheName = cacheName;
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the name of the cache this builder configures.</summary>
    public string CacheName { get; }

    /// <summary>Uses a provider created by <paramref name="factory"/> (provider packages wrap this in <c>UseRedis</c>, <c>UseMemcached</c>).</summary>
    /// <param name="factory">Creates the provider; called once, when the cache is first used.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder UseProvider(Func<IServiceProvider, ICacheProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.AddKeyedSingleton<ICacheProvider>(CacheName, (sp, _) => factory(sp));
        return this;
    }

    /// <summary>Uses the in-memory provider (the default when no provider is chosen).</summary>
    /// <param name="configure">Configures its bounds.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder UseMemoryProvider(Action<MemoryCacheProviderOptions>? configure = null)
    {
        var options = Services.AddOptions<MemoryCacheProviderOptions>(CacheName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var name = CacheName;
        return UseProvider(sp => new MemoryCacheProvider(
            Options.Create(sp.GetRequiredService<IOptionsMonitor<MemoryCacheProviderOptions>>().Get(name)),
            sp.GetService<TimeProvider>()));
    }

    /// <summary>
    /// Puts a near cache (L1) in front of this cache's out-of-process provider: hot entries are served from process memory,
    /// filled from the provider on a miss and dropped when any process changes them (Redis pushes invalidations; with
    /// memcached a copy lives at most <see cref="NearCacheOptions.MaxStaleness"/>). Every strategy and the ad-hoc
    /// <see cref="ICache"/> of this cache use it unless <see cref="CacheStrategyOptions.UseNearCache"/> is
    /// <see langword="false"/>; <c>IDistributedCache</c> never does (see docs/architecture.md, "Near cache"). With the
    /// in-memory provider it does nothing. The options are validated when the host starts.
    /// </summary>
    /// <example><c>services.AddCachePatterns().UseRedis(o =&gt; o.Configuration = "localhost:6379").WithNearCache(o =&gt; o.MaxEntries = 50_000);</c></example>
    /// <param name="configure">Configures the bounds and lifetimes of the copies.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder WithNearCache(Action<NearCacheOptions>? configure = null)
    {
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NearCacheOptions>, Validation.NearCacheOptionsValidator>());
        var options = Services.AddOptions<NearCacheOptions>(CacheName)
            .Configure(static o => o.Enabled = true)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return this;
    }

    /// <summary>Configures the timeout and circuit breaker of an out-of-process provider.</summary>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder ConfigureResilience(Action<CacheResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(CacheName, configure);
        return this;
    }

    /// <summary>Configures the expiration and fail-safe defaults of the ad-hoc <see cref="ICache"/>.</summary>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder ConfigureDefaults(Action<CacheStrategyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(CacheName, configure);
        return this;
    }

    /// <summary>Adds a serializer factory, asked before System.Text.Json (for example one with a source-generated context).</summary>
    /// <param name="factory">The factory.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddSerializerFactory(ICacheSerializerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.AddSingleton(factory);
        return this;
    }

    /// <summary>
    /// Caches <typeparamref name="TValue"/> with cache-aside: reads load through <typeparamref name="TLoader"/> on a miss;
    /// writes (when the loader is also an <see cref="ICacheWriter{TKey, TValue}"/>) go to the database and invalidate the key.
    /// </summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <typeparam name="TLoader">The loader, registered as a singleton unless already registered.</typeparam>
    /// <param name="configure">Configures the strategy.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddCacheAside<TKey, TValue, TLoader>(Action<CacheStrategyOptions>? configure = null)
        where TKey : notnull
        where TLoader : class, ICacheLoader<TKey, TValue>
    {
        Services.TryAddSingleton<TLoader>();
        return AddStrategy<TKey, TValue>(
            CacheStrategyKind.CacheAside,
            static sp => sp.GetRequiredService<TLoader>(),
            static sp => sp.GetRequiredService<TLoader>() as ICacheWriter<TKey, TValue>,
            configure);
    }

    /// <summary>
    /// Caches <typeparamref name="TValue"/> with write-through: writes go to the database, then into the cache, so reads
    /// after a write hit; misses still load lazily through <typeparamref name="TLoaderWriter"/>.
    /// </summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <typeparam name="TLoaderWriter">The loader and writer, registered as a singleton unless already registered.</typeparam>
    /// <param name="configure">Configures the strategy.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddWriteThrough<TKey, TValue, TLoaderWriter>(Action<CacheStrategyOptions>? configure = null)
        where TKey : notnull
        where TLoaderWriter : class, ICacheLoader<TKey, TValue>, ICacheWriter<TKey, TValue>
    {
        Services.TryAddSingleton<TLoaderWriter>();
        return AddStrategy<TKey, TValue>(
            CacheStrategyKind.WriteThrough,
            static sp => sp.GetRequiredService<TLoaderWriter>(),
            static sp => sp.GetRequiredService<TLoaderWriter>(),
            configure);
    }

    /// <summary>
    /// Adds a strategy with loader and writer from factories. Resolve it as <see cref="ICacheStrategy{TKey, TValue}"/>
    /// (or keyed by the cache name when several caches hold the same type).
    /// </summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="kind">Cache-aside or write-through (<paramref name="configure"/> may change it).</param>
    /// <param name="loader">Creates the loader; may return <see langword="null"/> for a strategy used only with factories.</param>
    /// <param name="writer">Creates the writer; may be or return <see langword="null"/> for a read-only strategy.</param>
    /// <param name="configure">Configures the strategy.</param>
    /// <param name="sizeOf">Estimates a value's size in bytes, for size-bounded in-memory stores.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddStrategy<TKey, TValue>(
        CacheStrategyKind kind,
        Func<IServiceProvider, ICacheLoader<TKey, TValue>?> loader,
        Func<IServiceProvider, ICacheWriter<TKey, TValue>?>? writer = null,
        Action<CacheStrategyOptions>? configure = null,
        Func<TValue, long>? sizeOf = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(loader);
        var optionsName = StrategyOptionsName<TKey, TValue>(CacheName);
        var options = Services.AddOptions<CacheStrategyOptions>(optionsName)
            .Configure(o => o.Kind = kind)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var cacheName = CacheName;
        Services.AddKeyedSingleton<ICacheStrategy<TKey, TValue>>(cacheName, (sp, _) =>
        {
            var instance = sp.GetRequiredKeyedService<CacheInstance>(cacheName);
            var resolved = sp.GetRequiredService<IOptionsMonitor<CacheStrategyOptions>>().Get(optionsName);
            var name = string.IsNullOrEmpty(resolved.KeyPrefix) ? typeof(TValue).Name : resolved.KeyPrefix;
            var tags = sp.GetKeyedService<Strategies.EntityTags<TKey, TValue>>(optionsName);
            return instance.CreateStrategy(name, name + ":", resolved, loader(sp), writer?.Invoke(sp), sizeOf, tags: tags);
        });
        Services.AddSingleton(sp => sp.GetRequiredKeyedService<ICacheStrategy<TKey, TValue>>(cacheName));
        return this;
    }

    /// <summary>
    /// Derives tags from the entity of the strategy <typeparamref name="TKey"/>/<typeparamref name="TValue"/> of this cache:
    /// the tags of the cached queries (lists, counts, reports stored with <see cref="CacheEntryOptions.Tags"/>) that a
    /// change of the entity outdates. <see cref="ICacheStrategy{TKey, TValue}.WriteAsync"/> invalidates the tags of the
    /// new value <b>and</b> of the previous one (a product moved from category 5 to 7 outdates both pages);
    /// <see cref="ICacheStrategy{TKey, TValue}.RemoveAsync"/> those of the previous value. The previous value is the cached
    /// entry, or, when the key is not cached, the loader's row read before the database write. The entity's own entry
    /// carries no tags: a write of one product does not evict its siblings.
    /// </summary>
    /// <example><c>builder.AddCacheAside&lt;int, Product, ProductLoader&gt;().DeriveTags&lt;int, Product&gt;(p =&gt; ["category:" + p.CategoryId]);</c></example>
    /// <typeparam name="TKey">The type of the strategy's key.</typeparam>
    /// <typeparam name="TValue">The type of the strategy's value.</typeparam>
    /// <param name="tags">The tags of one value (validated when used, see <see cref="CacheTags.Validate"/>).</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder DeriveTags<TKey, TValue>(Func<TValue, IEnumerable<string>> tags)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(tags);
        Services.AddKeyedSingleton(StrategyOptionsName<TKey, TValue>(CacheName), new Strategies.EntityTags<TKey, TValue>(tags));
        return this;
    }

    /// <summary>
    /// Registers <see cref="IDistributedCache"/> over this cache's provider, for ASP.NET Core sessions and output caching.
    /// By default its entries are a <see cref="DistributedCacheSemantics.Store"/> (the only copy: provider failures throw
    /// <see cref="CacheUnavailableException"/>, never become misses or deletes); values are stored as raw bytes.
    /// </summary>
    /// <param name="configure">Configures the key namespace, the semantics, retries and in-memory bounds.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddDistributedCache(Action<DistributedCacheOptions>? configure = null)
    {
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DistributedCacheOptions>, Validation.DistributedCacheOptionsValidator>());
        var optionsBuilder = Services.AddOptions<DistributedCacheOptions>(CacheName).ValidateOnStart();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        var cacheName = CacheName;
        Services.AddKeyedSingleton<IDistributedCache>(cacheName, (sp, _) =>
        {
            var instance = sp.GetRequiredKeyedService<CacheInstance>(cacheName);
            var options = sp.GetRequiredService<IOptionsMonitor<DistributedCacheOptions>>().Get(cacheName);
            instance.ClaimKeyPrefix(options.KeyPrefix, "IDistributedCache");
            var instruments = new StrategyInstruments("distributed", cacheName, instance.Telemetry, instance.Logger, instance.Time);
            var descriptor = new CacheStoreDescriptor<string, byte[]>(instruments.Name, options.KeyPrefix, ByteArrayCacheSerializer.Instance)
            {
                Observer = instruments,
                SizeOf = static b => b.Length,
                MaxEntries = options.MaxEntries,
                MaxBytes = options.MaxBytes,
            };
            if (options.Semantics == DistributedCacheSemantics.Cache)
            {
                return new CacheSemanticsAdapter(instance.CreateStore(descriptor, instruments, entriesCarryNoTags: true), instance.Time, instruments);
            }

            var store = instance.CreateDurableStore(descriptor, instruments, options.OperationTimeout, options.MaxAttempts, options.RetryDelay);
            return new StoreSemanticsAdapter(store, instance.Time, instruments);
        });
        Services.AddSingleton(sp => sp.GetRequiredKeyedService<IDistributedCache>(cacheName));
        return this;
    }

    /// <summary>
    /// Adds a health check of this cache's provider. A cache that does not answer reports <paramref name="failureStatus"/>
    /// (degraded by default: the application still works, reads go to the database).
    /// </summary>
    /// <param name="name">The check's name; default <c>cachepatterns-{cache name}</c>.</param>
    /// <param name="failureStatus">The status when the provider does not answer or its circuit is open.</param>
    /// <param name="tags">Tags to filter health checks by.</param>
    /// <returns>The builder.</returns>
    public CachePatternsBuilder AddHealthCheck(string? name = null, HealthStatus failureStatus = HealthStatus.Degraded, IEnumerable<string>? tags = null)
    {
        var cacheName = CacheName;
        Services.AddHealthChecks().Add(new HealthCheckRegistration(
            name ?? $"cachepatterns-{cacheName}",
            sp => new CacheHealthCheck(sp.GetRequiredKeyedService<CacheInstance>(cacheName)),
            failureStatus,
            tags));
        return this;
    }

    internal static string StrategyOptionsName<TKey, TValue>(string cacheName) =>
        $"{cacheName}/{typeof(TKey).FullName}/{typeof(TValue).FullName}";
}
