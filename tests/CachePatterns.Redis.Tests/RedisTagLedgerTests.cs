using System.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// A product write whose tag invalidation cannot reach Redis (the server hangs, or the writer's connection is cut): the
/// category query of the writing process never returns the pre-write row, and once the invalidation is replayed neither
/// does another process's or a fresh one's (docs/architecture.md, "The tag ledger"). Rows are <c>"category|name"</c>; the
/// product strategy derives <c>category:N</c>; the query is an ad-hoc entry tagged with it. Each test runs its own server.
/// </summary>
public sealed class RedisTagLedgerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_write_while_redis_hangs_never_lets_the_category_query_return_the_old_row_after_it_runs_again(bool nearCache)
    {
        var server = await RedisServer.StartAsync();
        try
        {
            var database = new FakeDatabase();
            database.Seed(1, "5|old");
            var logs = new FakeLogCollector();
            await using var a = Container(server.Configuration, database, logs, nearCache);
            await using var b = Container(server.Configuration, database, nearCache: nearCache);
            var products = a.GetRequiredService<ICacheStrategy<int, string>>();
            var (queryA, queryB) = (a.GetRequiredService<ICache>(), b.GetRequiredService<ICache>());
            await CacheQueryAsync(queryA, database);
            await CacheQueryAsync(queryB, database);

            server.Pause();
            Stopwatch resumed;
            try
            {
                // Once the circuit is open the invalidation is not even sent (a timed-out one may still land after SIGCONT:
                // the command sits in the socket), so nothing but the replay can ever tell Redis.
                await Wait.UntilAsync(
                    async () =>
                    {
                        await QueryAsync(queryA, database);
                        return logs.GetSnapshot().Any(r => r.Id.Id is 11 or 12);
                    },
                    TimeSpan.FromSeconds(30),
                    "the writer's circuit opens");
                await products.WriteAsync(1, "5|new");
                Assert.Equal("5|new", await QueryAsync(queryA, database));
            }
            finally
            {
                server.Resume();
                resumed = Stopwatch.StartNew();
            }

            // From the resume on, the writer's query never returns the old row: before the replay it is loaded, after it
            // Redis' entry is invalid. Read until the replay is logged, then some more.
            var reads = 0;
            while (!logs.GetSnapshot().Any(r => r.Id.Id == 72) && resumed.Elapsed < TimeSpan.FromSeconds(30))
            {
                Assert.Equal("5|new", await QueryAsync(queryA, database));
                reads++;
                await Task.Delay(1); // paces the reads (a reader, not a spinner); no timing depends on it
            }

            Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 72);
            var replayedAfter = resumed.Elapsed;
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("5|new", await QueryAsync(queryA, database));
            }

            // The other process read the old entry until the replay reached Redis (the window keys have too); then never.
            await Wait.UntilAsync(async () => await QueryAsync(queryB, database) == "5|new", TimeSpan.FromSeconds(30), "the other process reads the new row");
            var otherAfter = resumed.Elapsed;
            Assert.Equal("5|new", await QueryAsync(queryB, database));
            await using var fresh = Container(server.Configuration, database);
            Assert.Equal("5|new", await QueryAsync(fresh.GetRequiredService<ICache>(), database));
            output.WriteLine($"near cache {nearCache}: after SIGCONT: replay logged at {replayedAfter.TotalMilliseconds:F0} ms ({reads} reads by the writer before, none old), other process read the new row at {otherAfter.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_write_while_the_writers_connection_is_cut_is_replayed_when_it_comes_back_and_the_other_process_stops_reading_the_old_row()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            using var proxy = new TcpProxy(server.Port);
            var database = new FakeDatabase();
            database.Seed(1, "5|old");
            var logs = new FakeLogCollector();
            await using var a = Container($"127.0.0.1:{proxy.Port}", database, logs);
            await using var b = Container(server.Configuration, database);
            var products = a.GetRequiredService<ICacheStrategy<int, string>>();
            var (queryA, queryB) = (a.GetRequiredService<ICache>(), b.GetRequiredService<ICache>());
            await CacheQueryAsync(queryA, database);
            await CacheQueryAsync(queryB, database);

            proxy.Cut();
            await products.WriteAsync(1, "5|new");

            // The partition is real: the other process still reads the old entry; the writer does not.
            Assert.Equal("5|old", await QueryAsync(queryB, database));
            Assert.Equal("5|new", await QueryAsync(queryA, database));

            proxy.Restore();
            var restored = Stopwatch.StartNew();
            await Wait.UntilAsync(async () => await QueryAsync(queryB, database) == "5|new", TimeSpan.FromSeconds(30), "the other process reads the new row");
            var otherAfter = restored.Elapsed;
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("5|new", await QueryAsync(queryA, database));
                Assert.Equal("5|new", await QueryAsync(queryB, database));
            }

            Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 70);
            output.WriteLine($"after the relay was restored: the other process read the new row at {otherAfter.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static ServiceProvider Container(string configuration, FakeDatabase database, FakeLogCollector? logs = null, bool nearCache = false)
    {
        var builder = new ServiceCollection()
            .AddMetrics()
            .AddLogging(l =>
            {
                if (logs is not null)
                {
                    l.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug);
                }
            })
            .AddCachePatterns()
            .UseProvider(sp => new RedisCacheProvider(
                Options.Create(new RedisCacheProviderOptions { Configuration = configuration + ",connectTimeout=1000", InstanceName = "tl:" }),
                sp.GetService<ILogger<RedisCacheProvider>>()));
        if (nearCache)
        {
            builder.WithNearCache();
        }

        return builder
            .ConfigureResilience(o =>
            {
                o.OperationTimeout = TimeSpan.FromMilliseconds(300);
                o.BreakDuration = TimeSpan.FromSeconds(1);
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, _ => database, o => o.Jitter = 0)
            .DeriveTags<int, string>(row => ["category:" + row.Split('|')[0]])
            .Services.BuildServiceProvider();
    }

    private static ValueTask<string> QueryAsync(ICache cache, FakeDatabase database) =>
        cache.GetOrLoadAsync("page:5", _ => ValueTask.FromResult(database.Rows[1]), new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromMinutes(5) });

    /// <summary>Reads the query until it is a hit in Redis (the first call also connects, which may time out on a loaded machine).</summary>
    private static async Task CacheQueryAsync(ICache cache, FakeDatabase database)
    {
        await Wait.UntilAsync(
            async () =>
            {
                var loads = 0;
                await cache.GetOrLoadAsync("page:5", _ => { loads++; return ValueTask.FromResult(database.Rows[1]); }, new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromMinutes(5) });
                return loads == 0;
            },
            TimeSpan.FromSeconds(30),
            "the category query is cached");
    }
}
