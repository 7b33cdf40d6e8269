using System.Diagnostics.Metrics;
using System.Net;
using CachePatterns.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CachePatterns.Tests.Distributed;

/// <summary>ASP.NET Core's session middleware runs on the IDistributedCache that CachePatterns registers.</summary>
public sealed class AspNetCoreSessionTests
{
    [Fact]
    public async Task Session_state_survives_across_requests_and_lives_in_the_cache()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMetrics();
        builder.Services.AddCachePatterns().AddDistributedCache();
        builder.Services.AddSession(o => o.IdleTimeout = TimeSpan.FromMinutes(5));
        await using var app = builder.Build();
        app.UseSession();
        app.MapGet("/count", async (HttpContext context) =>
        {
            await context.Session.LoadAsync();
            var count = (context.Session.GetInt32("count") ?? 0) + 1;
            context.Session.SetInt32("count", count);
            return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        await app.StartAsync();
        using var hits = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.Hits);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(address) };
        Assert.Equal("1", await client.GetStringAsync(new Uri("/count", UriKind.Relative)));
        Assert.Equal("2", await client.GetStringAsync(new Uri("/count", UriKind.Relative)));
        Assert.Equal("3", await client.GetStringAsync(new Uri("/count", UriKind.Relative)));

        // The session was read back from our cache on the second and third requests.
        var cache = app.Services.GetRequiredService<IDistributedCache>();
        Assert.IsAssignableFrom<CachePatterns.Distributed.DistributedCacheAdapter>(cache);
        Assert.True(hits.GetMeasurementSnapshot().Where(m => (string?)m.Tags[CacheDiagnostics.CacheNameTag] == "distributed").Sum(m => m.Value) >= 2);

        using var stranger = new HttpClient { BaseAddress = new Uri(address) };
        Assert.Equal("1", await stranger.GetStringAsync(new Uri("/count", UriKind.Relative)));
        await app.StopAsync();
    }
}
