using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>A server with <c>maxmemory 2mb</c> and <c>allkeys-lru</c>, filled well past its limit.</summary>
public sealed class RedisEvictionTests
{
    [Fact]
    public async Task Filling_past_maxmemory_evicts_reports_the_evictions_in_health_and_reads_stay_correct()
    {
        var server = await RedisServer.StartAsync("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru");
        try
        {
            var database = new FakeDatabase();
            var padding = new string('x', 2000);
            for (var k = 0; k < 3000; k++)
            {
                database.Seed(k, $"{k}:{padding}");
            }

            await using var services = new ServiceCollection()
                .AddCachePatterns()
                .UseRedis(o =>
                {
                    o.Configuration = server.Configuration;
                    o.InstanceName = "ev:";
                })
                .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
                .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, _ => database, o => o.Jitter = 0)
                .Services.BuildServiceProvider();
            var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();

            // About 6 MB of entries into 2 MB: Redis evicts; every read is still the database's row.
            for (var k = 0; k < 3000; k++)
            {
                Assert.Equal($"{k}:{padding}", await strategy.GetAsync(k));
            }

            var provider = services.GetRequiredKeyedService<Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
            var health = await provider.CheckHealthAsync();
            Assert.True(health.IsHealthy, health.Description);
            Assert.Equal("allkeys-lru", health.Data!["maxmemory_policy"]);
            Assert.Equal(2L * 1024 * 1024, health.Data["maxmemory"]);
            var evicted = Assert.IsType<long>(health.Data["evicted_keys"]);
            Assert.True(evicted > 1000, $"only {evicted} keys were evicted");
            Assert.Contains("evicted", health.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("Warning", health.Description, StringComparison.Ordinal);

            // Writes and reads after evictions: still the database's rows (evicted leases or write registrations
            // only make Redis forget, never store something older).
            for (var k = 0; k < 3000; k += 7)
            {
                await strategy.WriteAsync(k, $"{k}:new");
            }

            for (var k = 0; k < 3000; k++)
            {
                Assert.Equal(k % 7 == 0 ? $"{k}:new" : $"{k}:{padding}", await strategy.GetAsync(k));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
