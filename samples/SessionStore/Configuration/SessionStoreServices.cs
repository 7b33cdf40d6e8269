using CachePatterns;
using CachePatterns.Routing;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Session;
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
                });
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
            .AddDistributedCache(o => o.KeyPrefix = "session:")
            .AddHealthCheck("cache");
        return cache;
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
        services.AddSingleton<AccountService>();

        services.AddSingleton<ISessionStore, RevocableSessionStore>();
        services.AddSession(o =>
        {
            o.IdleTimeout = settings.Session.IdleTimeout;
            o.Cookie.Name = SessionCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.IsEssential = true;
        });

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
            o.AccessDeniedPath = "/SignIn";
            o.Events.OnValidatePrincipal = AccountService.ValidatePrincipalAsync;
            o.Events.OnRedirectToLogin = context =>
            {
                var expired = context.HttpContext.Items.ContainsKey(AccountService.SessionExpiredItem);
                context.Response.Redirect(expired ? context.RedirectUri + "&expired=true" : context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        services.AddAuthorization();

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
        services.AddHostedService(sp => sp.GetRequiredService<CacheStatistics>());
        return services;
    }
}
