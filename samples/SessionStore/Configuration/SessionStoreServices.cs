using CachePatterns;
using CachePatterns.Routing;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Distributed;
using SessionStore.Catalog;
using SessionStore.Data;
using SessionStore.Security;
using SessionStore.Sessions;
using SessionStore.Statistics;

namespace SessionStore.Configuration;

/// <summary>The app's DI setup, one method per concern; <c>Program.cs</c> calls them in order.</summary>
public static class SessionStoreServices
{
    public const string SessionCookieName = ".SessionStore.Session";
    public const string AuthCookieName = ".SessionStore.SignIn";
    public const string AntiforgeryCookieName = ".SessionStore.Antiforgery";

    /// <summary>
    /// One cache for the catalogue and the sessions: <c>ICacheStrategy&lt;int, Product&gt;</c> (cache-aside reads,
    /// write-through edits) and the <c>IDistributedCache</c> that ASP.NET Core's session uses.
    /// </summary>
    /// <returns>The cache's builder, for <see cref="AddStoreDatabase"/>.</returns>
    public static CachePatternsBuilder AddStoreCache(this IServiceCollection services, SessionStoreSettings settings)
    {
        var cache = services.AddCachePatterns();
        switch (settings.Provider)
        {
            case CacheProviderKind.Redis:
                cache.UseRedis(o =>
                {
                    o.Configuration = settings.Cache.Redis;
                    o.InstanceName = settings.Cache.InstanceName;
                }).WithCatalogueNearCache(settings.Cache);
                break;
            case CacheProviderKind.Memcached:
                cache.UseMemcached(o =>
                {
                    o.KeyPrefix = settings.Cache.InstanceName;
                    foreach (var server in settings.Cache.Memcached!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        o.Servers.Add(server);
                    }
                });
                break;
            default:
                cache.UseMemoryProvider(o => o.MaxEntries = settings.Cache.MaxEntries);
                break;
        }

        cache.AddWriteThrough<int, Product, ProductRepository>(o =>
            {
                o.Expiration = TimeSpan.FromMinutes(10);
                o.NegativeCacheExpiration = TimeSpan.FromSeconds(30);
            })
            .AddWriteThrough<string, Order, OrderRepository>(o =>
            {
                o.Expiration = TimeSpan.FromMinutes(10);
                o.UseNearCache = false;
            })
            .AddDistributedCache(o => o.KeyPrefix = SessionCaches.KeyPrefix)
            .AddHealthCheck("cache")
            .AddStoreQueryCaching();
        AddSessionCaches(services, settings);
        return cache;
    }

    /// <summary>
    /// Signed-in and anonymous sessions: on the in-memory provider two caches with their own LRU bounds (anonymous ones
    /// cannot evict signed-in ones); on Redis or memcached both in the one shared cache.
    /// </summary>
    private static void AddSessionCaches(IServiceCollection services, SessionStoreSettings settings)
    {
        if (settings.Provider != CacheProviderKind.Memory)
        {
            services.AddSingleton(static sp =>
            {
                var shared = sp.GetRequiredKeyedService<IDistributedCache>(CachePatternsBuilder.DefaultCacheName);
                return new SessionCaches(shared, shared);
            });
            return;
        }

        services.AddCachePatterns(SessionCaches.AnonymousCacheName)
            .UseMemoryProvider(o => o.MaxEntries = settings.Cache.MaxAnonymousSessions)
            .AddDistributedCache(o => o.KeyPrefix = SessionCaches.KeyPrefix);
        services.AddSingleton(static sp => new SessionCaches(
            sp.GetRequiredKeyedService<IDistributedCache>(CachePatternsBuilder.DefaultCacheName),
            sp.GetRequiredKeyedService<IDistributedCache>(SessionCaches.AnonymousCacheName)));
    }

    /// <summary>
    /// The database behind the <see cref="IDbConnectionFactory"/> seam: a SQLite file, or PostgreSQL with replicas through
    /// the library's read/write router on this cache (whose fills then never read a replica behind this process's writes).
    /// </summary>
    public static IServiceCollection AddStoreDatabase(this CachePatternsBuilder cache, SessionStoreSettings settings, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(settings);
        var services = cache.Services;
        if (settings.Database.UsesPostgres)
        {
            cache.AddRouting(o =>
            {
                o.ConnectionString = settings.Database.Postgres;
                o.MaxReplicaLag = settings.Database.MaxReplicaLag;
            });
            services.AddSingleton<IDbConnectionFactory>(static sp => new RoutingConnectionFactory(sp.GetRequiredService<RoutingDataSource>(), DatabaseKind.PostgreSql));
        }
        else if (settings.Database.UsesMariaDb)
        {
            cache.AddRouting(o =>
            {
                o.Engine = RoutingEngine.MySql;
                o.ConnectionString = settings.Database.MariaDb;
                o.MaxReplicaLag = settings.Database.MaxReplicaLag;
            });
            services.AddSingleton<IDbConnectionFactory>(static sp => new RoutingConnectionFactory(sp.GetRequiredService<RoutingDataSource>(), DatabaseKind.MariaDb));
        }
        else
        {
            var file = settings.Database.SqliteFile;
            services.AddSingleton<IDbConnectionFactory>(new SqliteConnectionFactory(Path.IsPathRooted(file) ? file : Path.Combine(contentRoot, file)));
        }

        services.AddSingleton<UserRepository>();
        services.AddSingleton<OrderRepository>();
        services.AddSingleton<DatabaseInitializer>();
        services.AddSingleton<DatabaseStartup>();
        services.AddHostedService(static sp => sp.GetRequiredService<DatabaseStartup>());
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return services;
    }

    /// <summary>Sessions, sign-in, anti-forgery and the shared key ring, with the cookie settings users expect.</summary>
    public static IServiceCollection AddStoreSecurity(this IServiceCollection services, SessionStoreSettings settings)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName("CachePatterns.SessionStore");
        if (!string.IsNullOrWhiteSpace(settings.DataProtection.KeysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(settings.DataProtection.KeysDirectory));
        }

        services.AddSingleton<IPasswordHasher<StoreUser>, PasswordHasher<StoreUser>>();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<AccountService>();
        services.AddAnonymousPostLimiter(settings.Security);

        // Sessions: ShopSessionMiddleware (Program.cs) instead of UseSession, see ShopSession.
        services.AddSingleton(new SessionCookieOptions(SessionCookieName, settings.Session.IdleTimeout));
        services.AddSingleton<SessionOutageLog>();

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = AuthCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = settings.Session.IdleTimeout;
            o.SlidingExpiration = true;
            o.LoginPath = "/SignIn";
            o.LogoutPath = "/SignOut";
            o.Events.OnRedirectToAccessDenied = static context =>
            {
                // Signed in, but not allowed: say so (403 page) rather than sending the user to sign in again.
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = AccountService.ValidatePrincipalAsync;
            o.Events.OnRedirectToLogin = context =>
            {
                if (context.Request.Path.StartsWithSegments(StatisticsEndpoint.DataPath, StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized; // a script's request: no redirect to a page
                    return Task.CompletedTask;
                }

                var expired = context.HttpContext.Items.ContainsKey(AccountService.SessionExpiredItem);
                context.Response.Redirect(expired ? context.RedirectUri + "&expired=true" : context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder().AddPolicy(Roles.AdministratorPolicy, static p => p.RequireAuthenticatedUser().RequireRole(Roles.Administrator));

        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = AntiforgeryCookieName;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    /// <summary>The statistics page's collector (a hosted service sampling every second).</summary>
    public static IServiceCollection AddStoreStatistics(this IServiceCollection services)
    {
        services.AddSingleton(sp => new CacheStatistics(sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(1)));
        services.AddSingleton<ShopActivity>();
        services.AddHostedService(sp => sp.GetRequiredService<CacheStatistics>());
        return services;
    }
}
