using System.Net;
using CachePatterns.Redis.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>The core's IDistributedCache over the Redis provider: sliding expiration in the same round trip, ASP.NET Core sessions.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisDistributedCacheTests(RedisServer redis)
{
    [Fact]
    public async Task A_sliding_hit_is_renewed_by_the_read_itself_one_script_call_per_get()
    {
        var instance = redis.NewInstanceName();
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddDistributedCache()
            .Services.BuildServiceProvider();
        var cache = services.GetRequiredService<IDistributedCache>();
        await cache.SetAsync("s", [1, 2, 3], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2), AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        var provider = (RedisCacheProvider)services.GetRequiredKeyedService<Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
        var multiplexer = provider.Connection.Multiplexer!;
        // The value key; the store's write ids live beside it under "…}:d".
        var key = (await redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]).KeysAsync(pattern: $"{{{instance}*}}").ToListAsync()).Single();

        // One read first, so the script is known to the server; let the window run down, then read: the read's own
        // script renews it. Every command the provider sends is recorded by StackExchange.Redis's profiler.
        Assert.Equal([1, 2, 3], await cache.GetAsync("s"));
        var expiresBefore = await ExpiresAsync(key);
        await Wait.UntilAsync(async () => await redis.Database.KeyTimeToLiveAsync(key) < TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(5), "part of the window passes");
        var session = new StackExchange.Redis.Profiling.ProfilingSession();
        multiplexer.RegisterProfiler(() => session);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal([1, 2, 3], await cache.GetAsync("s"));
        }

        var sent = session.FinishProfiling().Select(c => c.Command).Where(c => c is not ("PING" or "ECHO")).ToList();
        Assert.Equal(10, sent.Count);
        Assert.All(sent, c => Assert.StartsWith("EVAL", c, StringComparison.Ordinal));

        // Judged by the envelope's expiry moving forward (a TTL window could be missed on a slow machine).
        Assert.True(await ExpiresAsync(key) > expiresBefore, "the hit renewed the sliding window on the server");
    }

    /// <summary>The envelope's expiry (server milliseconds, bytes 2..9 little-endian).</summary>
    private async Task<long> ExpiresAsync(StackExchange.Redis.RedisKey key)
    {
        var stored = (byte[]?)await redis.Database.StringGetAsync(key);
        Assert.NotNull(stored);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(stored.AsSpan(2, 8));
    }

    [Fact]
    public async Task ASP_NET_Core_sessions_live_in_redis_and_two_app_instances_share_them()
    {
        var instance = redis.NewInstanceName();
        var keys = Path.Combine(Path.GetTempPath(), "cachepatterns-dp-" + Guid.NewGuid().ToString("N"));
        async Task<(WebApplication App, Uri Address)> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddDataProtection().SetApplicationName("cachepatterns-redis-tests").PersistKeysToFileSystem(new DirectoryInfo(keys));
            builder.Services.AddCachePatterns()
                .UseRedis(o =>
                {
                    o.Configuration = redis.Configuration;
                    o.InstanceName = instance;
                })
                .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
                .AddDistributedCache();
            builder.Services.AddSession(o => o.IdleTimeout = TimeSpan.FromMinutes(5));
            var app = builder.Build();
            app.UseSession();
            app.MapGet("/count", async (HttpContext context) =>
            {
                await context.Session.LoadAsync();
                var count = (context.Session.GetInt32("count") ?? 0) + 1;
                context.Session.SetInt32("count", count);
                return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
            await app.StartAsync();
            return (app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()));
        }

        var (first, a) = await StartAsync();
        var (second, b) = await StartAsync();
        try
        {
            using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
            using var client = new HttpClient(handler);
            Assert.Equal("1", await client.GetStringAsync(new Uri(a, "/count")));
            var cookie = handler.CookieContainer.GetCookies(a).Single();
            handler.CookieContainer.Add(b, new Cookie(cookie.Name, cookie.Value));
            Assert.Equal("2", await client.GetStringAsync(new Uri(b, "/count")));
            Assert.Equal("3", await client.GetStringAsync(new Uri(a, "/count")));

            // The session is one entry in Redis, under this cache's instance name (and the ids of its latest writes beside it).
            var stored = await redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]).KeysAsync(pattern: $"{{{instance}*").ToListAsync();
            Assert.Equal(2, stored.Count);
            Assert.Single(stored, k => ((string)k!).EndsWith('}'));
            Assert.Single(stored, k => ((string)k!).EndsWith("}:d", StringComparison.Ordinal));
        }
        finally
        {
            await first.StopAsync();
            await second.StopAsync();
            await first.DisposeAsync();
            await second.DisposeAsync();
            Directory.Delete(keys, recursive: true);
        }
    }
}
