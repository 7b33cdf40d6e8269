using System.Diagnostics;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// A product write while the memcached node holding the tag's version hangs (SIGSTOP): the tag invalidation fails fast
/// (the node is dead), and once the node answers again — keeping its data (<see cref="MemcachedReturningNodePolicy.Keep"/>;
/// the default flush would empty it and hide the loss) — the writing process's category query never returns the pre-write
/// row, and after the replay neither does another process's or a fresh one's (docs/architecture.md, "The tag ledger").
/// </summary>
public sealed class TagLedgerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_write_while_the_node_hangs_never_lets_the_category_query_return_the_old_row_after_it_returns()
    {
        using var server = new MemcachedProcess();
        var database = new FakeDatabase();
        database.Seed(1, "5|old");
        var prefix = $"tl{Guid.NewGuid():N}:";
        var logs = new FakeLogCollector();
        await using var a = Build(server, database, prefix, logs);
        await using var b = Build(server, database, prefix);
        var products = a.GetRequiredService<ICacheStrategy<int, string>>();
        var (queryA, queryB) = (a.GetRequiredService<ICache>(), b.GetRequiredService<ICache>());
        await CacheQueryAsync(queryA, database);
        await CacheQueryAsync(queryB, database);

        server.Signal("STOP");
        Stopwatch resumed;
        try
        {
            // Once the writer's client has the node for dead, its invalidations are not even sent (NodeDown).
            var node = ((MemcachedCacheProvider)a.GetRequiredKeyedService<Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName)).Client.Nodes.Single();
            await Poll.UntilAsync(
                async () =>
                {
                    await QueryAsync(queryA, database);
                    return node.IsDead;
                },
                "the writer's client to mark the hung node dead");
            await products.WriteAsync(1, "5|new");
            Assert.Equal("5|new", await QueryAsync(queryA, database));
        }
        finally
        {
            server.Signal("CONT");
            resumed = Stopwatch.StartNew();
        }

        var reads = 0;
        while (!logs.GetSnapshot().Any(r => r.Id.Id == 72) && resumed.Elapsed < TimeSpan.FromSeconds(30))
        {
            Assert.Equal("5|new", await QueryAsync(queryA, database));
            reads++;
            await Task.Delay(1); // paces the reads; no timing depends on it
        }

        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 72);
        var replayedAfter = resumed.Elapsed;
        await Poll.UntilAsync(async () => await QueryAsync(queryB, database) == "5|new", "the other process to read the new row", TimeSpan.FromSeconds(30));
        var otherAfter = resumed.Elapsed;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("5|new", await QueryAsync(queryA, database));
            Assert.Equal("5|new", await QueryAsync(queryB, database));
        }

        await using var fresh = Build(server, database, prefix);
        Assert.Equal("5|new", await QueryAsync(fresh.GetRequiredService<ICache>(), database));
        output.WriteLine($"after SIGCONT: replay logged at {replayedAfter.TotalMilliseconds:F0} ms ({reads} reads by the writer before, none old), other process read the new row at {otherAfter.TotalMilliseconds:F0} ms");
    }

    private static ServiceProvider Build(MemcachedProcess server, FakeDatabase database, string prefix, FakeLogCollector? logs = null) =>
        new ServiceCollection()
            .AddLogging(l =>
            {
                if (logs is not null)
                {
                    l.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug);
                }
            })
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                o.Servers.Add(server.Address);
                o.KeyPrefix = prefix;
                o.FailuresBeforeDead = 2;
                o.OperationTimeout = TimeSpan.FromMilliseconds(300);
                o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
                o.DeadNodeProbeInterval = TimeSpan.FromMilliseconds(100);
                o.ReturningNodes = MemcachedReturningNodePolicy.Keep;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, _ => database, o => o.Jitter = 0)
            .DeriveTags<int, string>(row => ["category:" + row.Split('|')[0]])
            .Services.BuildServiceProvider();

    private static ValueTask<string> QueryAsync(ICache cache, FakeDatabase database) =>
        cache.GetOrLoadAsync("page:5", _ => ValueTask.FromResult(database.Rows[1]), new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromMinutes(5) });

    /// <summary>Reads the query until it is a hit (a tagged store's first fill may be fenced once: docs/architecture.md, "Tags").</summary>
    private static Task CacheQueryAsync(ICache cache, FakeDatabase database) =>
        Poll.UntilAsync(
            async () =>
            {
                var loads = 0;
                await cache.GetOrLoadAsync("page:5", _ => { loads++; return ValueTask.FromResult(database.Rows[1]); }, new CacheEntryOptions { Tags = ["category:5"], Expiration = TimeSpan.FromMinutes(5) });
                return loads == 0;
            },
            "the category query is cached");
}
