using Microsoft.Extensions.Diagnostics.HealthChecks;
using SessionStore.Configuration;
using SessionStore.Data;

namespace SessionStore.Statistics;

/// <summary><c>GET /stats/data</c>: the JSON the statistics page polls (counters, the chart's samples, health).</summary>
public static class StatisticsEndpoint
{
    /// <summary>The JSON's address. Administrators only: it names the host, the process and the servers.</summary>
    public const string DataPath = "/stats/data";

    public static IEndpointRouteBuilder MapStatistics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(DataPath, GetAsync).RequireAuthorization(Security.Roles.AdministratorPolicy);
        return endpoints;
    }

    private static async Task<IResult> GetAsync(
        CacheStatistics statistics, ShopActivity activity, HealthCheckService health, SessionStoreSettings settings, IDbConnectionFactory database, HttpContext context)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted);
        var counters = statistics.Counters;
        var hits = counters.Sum(static c => c.Hits);
        var misses = counters.Sum(static c => c.Misses);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new
        {
            instance = $"{Environment.MachineName} pid {Environment.ProcessId}",
            provider = settings.Provider.ToString(),
            database = database.Description,
            intervalSeconds = statistics.Interval.TotalSeconds,
            hits,
            misses,
            loads = counters.Sum(static c => c.Loads),
            hitRatio = hits + misses == 0 ? (double?)null : (double)hits / (hits + misses),
            evictions = statistics.EvictionsByReason,
            providerErrors = counters.Sum(static c => c.ProviderErrors),
            orders = activity.OrdersPlaced,
            caches = counters.Select(static c => new { name = c.Name, hits = c.Hits, misses = c.Misses, loads = c.Loads, evictions = c.Evictions, providerErrors = c.ProviderErrors, hitRatio = c.HitRatio }),
            samples = statistics.Samples.Select(static s => new { time = s.Time, hits = s.Hits, misses = s.Misses, loads = s.Loads, evictions = s.Evictions, providerErrors = s.ProviderErrors }),
            health = new
            {
                status = report.Status.ToString(),
                checks = report.Entries.Select(static e => new
                {
                    name = e.Key,
                    status = e.Value.Status.ToString(),
                    description = e.Value.Description,
                    data = e.Value.Data.ToDictionary(static d => d.Key, static d => Convert.ToString(d.Value, System.Globalization.CultureInfo.InvariantCulture)),
                }),
            },
        });
    }
}
