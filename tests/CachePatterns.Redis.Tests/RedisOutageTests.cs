using System.Diagnostics.Metrics;
using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Redis down is not an outage: a server killed under load, frozen (SIGSTOP, the data survives) or cut off from one
/// client. Each test runs its own redis-server, since it kills or freezes it.
/// </summary>
public sealed class RedisOutageTests
{
    private static ServiceProvider Container(
        string configuration,
        FakeDatabase database,
        FakeLogCollector? logs = null,
        Action<CachePatterns.Resilience.CacheResilienceOptions>? resilience = null,
        Action<CountingProvider>? created = null,
        Action<RedisCacheProviderOptions>? redis = null) =>
        new ServiceCollection()
            .AddMetrics()
            .AddLogging(b =>
            {
                if (logs is not null)
                {
                    b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug);
                }
            })
            .AddCachePatterns()
            .UseProvider(sp =>
            {
                var options = new RedisCacheProviderOptions { Configuration = configuration + ",connectTimeout=1000", InstanceName = "o:" };
                redis?.Invoke(options);
                var counting = new CountingProvider(new RedisCacheProvider(Options.Create(options), sp.GetService<ILogger<RedisCacheProvider>>()));
                created?.Invoke(counting);
                return counting;
            })
            .ConfigureResilience(o =>
            {
                // Generous: a loaded 2-core machine must not open the circuit while Redis is up.
                o.OperationTimeout = TimeSpan.FromSeconds(1);
                o.BreakDuration = TimeSpan.FromSeconds(1);
                resilience?.Invoke(o);
            })
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => database, _ => database, o => o.Jitter = 0)
            .Services.BuildServiceProvider();

    [Fact]
    public async Task Killing_redis_under_load_costs_callers_nothing_opens_the_circuit_and_the_cache_is_used_again_after_a_restart()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            var database = new FakeDatabase();
            for (var k = 0; k < 50; k++)
            {
                database.Seed(k, $"r0-{k}");
            }

            CountingProvider counting = null!;
            var logs = new FakeLogCollector();
            await using var services = Container(server.Configuration, database, logs, created: p => counting = p);
            var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
            using var errors = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), "CachePatterns", "cachepatterns.provider.errors");
            long ProviderErrors() => errors.GetMeasurementSnapshot().Sum(m => m.Value);

            // Cached keys are read from Redis: no load. On a loaded machine a read can exceed the operation timeout (or find
            // the circuit opened by such timeouts); it is then counted in cachepatterns.provider.errors and served by the
            // loader, as documented. So each load during the reads must come with a provider error; a load without one is
            // a cached key missed.
            // errorsSince: also count the errors since then (a fill that failed before the reads leaves its key uncached).
            async Task AssertServedByRedisAsync(Func<Task> reads, string what, long? errorsSince = null)
            {
                var (loadsBefore, errorsBefore) = (database.Loads, errorsSince ?? ProviderErrors());
                await reads();
                var (loads, failed) = (database.Loads - loadsBefore, ProviderErrors() - errorsBefore);
                Assert.True(loads <= failed, $"{what}: {loads} loads but only {failed} provider errors; a key in Redis was loaded again");
            }

            for (var k = 0; k < 50; k++)
            {
                Assert.Equal($"r0-{k}", await strategy.GetAsync(k));
            }

            // The very first call also connects; on a loaded machine that can take longer than the operation timeout, and
            // that read is then served by the loader without a fill (documented). Read until every key is in Redis.
            await Wait.UntilAsync(
                async () =>
                {
                    var all = true;
                    for (var k = 0; k < 50; k++)
                    {
                        if (!await server.Database.KeyExistsAsync($"{{o:String:{k}}}"))
                        {
                            all = false;
                            await strategy.GetAsync(k);
                        }
                    }

                    return all;
                },
                TimeSpan.FromSeconds(30),
                "every key is cached");
            await AssertServedByRedisAsync(
                async () =>
                {
                    for (var k = 0; k < 50; k++)
                    {
                        Assert.Equal($"r0-{k}", await strategy.GetAsync(k));
                    }
                },
                "50 cached keys read once");

            // Four callers read (and sometimes write) all along; every exception that reaches them is counted.
            var failures = new List<Exception>();
            var operations = 0;
            var written = new int[50];
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                while (!stop.IsCancellationRequested)
                {
                    var key = random.Next(50);
                    try
                    {
                        if (random.Next(10) == 0 && key % 4 == w)
                        {
                            // Each worker writes only its own keys, so it knows the row it last wrote.
                            var version = ++written[key];
                            await strategy.WriteAsync(key, $"r{version}-{key}");
                        }
                        else
                        {
                            var value = await strategy.GetAsync(key);
                            Assert.NotNull(value);
                        }
                    }
                    catch (Exception ex)
                    {
                        lock (failures)
                        {
                            failures.Add(ex);
                        }
                    }

                    Interlocked.Increment(ref operations);
                }
            })).ToArray();

            await Wait.UntilAsync(() => Task.FromResult(Volatile.Read(ref operations) > 300), TimeSpan.FromSeconds(30), "the load runs against a live Redis");
            server.Crash();
            await Wait.UntilAsync(() => Task.FromResult(logs.GetSnapshot().Any(r => r.Message.Contains("Circuit breaker", StringComparison.Ordinal) && r.Message.Contains("opened", StringComparison.Ordinal))), TimeSpan.FromSeconds(30), "the circuit opens");

            // With the circuit open, reads no longer reach Redis (one probe per BreakDuration at most): no timeouts paid.
            var callsBefore = counting.Calls;
            var operationsBefore = Volatile.Read(ref operations);
            await Wait.UntilAsync(() => Task.FromResult(Volatile.Read(ref operations) > operationsBefore + 2000), TimeSpan.FromSeconds(60), "2,000 operations run with Redis down");
            var reached = counting.Calls - callsBefore;
            var done = Volatile.Read(ref operations) - operationsBefore;
            Assert.True(reached * 20 < done, $"{reached} of {done} operations reached the dead Redis provider; the circuit should skip it.");
            var errorsWhileDown = errors.GetMeasurementSnapshot().Sum(m => m.Value);
            Assert.True(errorsWhileDown > 0, "the failed calls are counted in cachepatterns.provider.errors");

            await server.RestartAsync();

            // The cache is used again without restarting the application: a key read twice is loaded once.
            await Wait.UntilAsync(
                async () =>
                {
                    await strategy.GetAsync(49);
                    return await server.Database.KeyExistsAsync("{o:String:49}");
                },
                TimeSpan.FromSeconds(30),
                "reads fill Redis again");

            await stop.CancelAsync();
            await Task.WhenAll(workers);
            Assert.Empty(failures);

            // Writes during the outage reached the database, and no reader sees an older row than the database's.
            var errorsBeforeFills = ProviderErrors();
            for (var k = 0; k < 50; k++)
            {
                var expected = written[k] == 0 ? $"r0-{k}" : $"r{written[k]}-{k}";
                Assert.True(database.TryRead(k, out var row));
                Assert.Equal(expected, row);
                Assert.Equal(expected, await strategy.GetAsync(k));
            }

            await AssertServedByRedisAsync(
                async () => Assert.Equal(written[49] == 0 ? "r0-49" : $"r{written[49]}-49", await strategy.GetAsync(49)),
                "key 49, read again after the restart",
                errorsBeforeFills);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Invalidations_lost_while_one_client_was_cut_off_are_replayed_when_its_connection_is_restored()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            using var proxy = new TcpProxy(server.Port);
            var database = new FakeDatabase();
            database.Seed(1, "old");
            CountingProvider cutOffProvider = null!;
            var logs = new FakeLogCollector();

            // A reaches Redis through the proxy (it will be cut off); B directly, like another application server.
            await using var a = Container($"127.0.0.1:{proxy.Port}", database, logs, created: p => cutOffProvider = p);
            await using var b = Container(server.Configuration, database);
            var first = a.GetRequiredService<ICacheStrategy<int, string>>();
            var second = b.GetRequiredService<ICacheStrategy<int, string>>();
            Assert.Equal("old", await first.GetAsync(1));
            Assert.Equal("old", await second.GetAsync(1));
            Assert.True(await server.Database.KeyExistsAsync("{o:String:1}"));

            proxy.Cut();

            // A's write reaches the database, its invalidation cannot reach Redis: B still sees the old entry (the
            // partition is real), and A does not read it.
            await first.WriteAsync(1, "new");
            Assert.Equal("new", await first.GetAsync(1));
            Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains("it is remembered and retried", StringComparison.Ordinal));
            Assert.Equal("old", await second.GetAsync(1));

            // A's connection comes back: the core replays the invalidation without any read of the key by A.
            proxy.Restore();
            await Wait.UntilAsync(async () => !await server.Database.KeyExistsAsync("{o:String:1}"), TimeSpan.FromSeconds(30), "the pending invalidation is replayed");
            Assert.Equal("new", await second.GetAsync(1));
            Assert.Equal("new", await first.GetAsync(1));

            // The replay logs after its invalidation landed: on a loaded machine the line may come a moment after the key is gone.
            await Wait.UntilAsync(
                () => Task.FromResult(logs.GetSnapshot().Any(r => r.Message.Contains("Replayed 1 invalidations", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(10),
                "the replay is logged");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Writes_while_redis_is_frozen_leave_no_stale_entry_for_either_container_once_it_runs_again()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            var database = new FakeDatabase();
            for (var k = 0; k < 10; k++)
            {
                database.Seed(k, $"old-{k}");
            }

            CountingProvider writerProvider = null!;
            void Short(CachePatterns.Resilience.CacheResilienceOptions o) => o.OperationTimeout = TimeSpan.FromMilliseconds(300);
            await using var a = Container(server.Configuration, database, resilience: Short, created: p => writerProvider = p);
            await using var b = Container(server.Configuration, database, resilience: Short);
            var first = a.GetRequiredService<ICacheStrategy<int, string>>();
            var second = b.GetRequiredService<ICacheStrategy<int, string>>();
            for (var k = 0; k < 10; k++)
            {
                Assert.Equal($"old-{k}", await first.GetAsync(k));
                Assert.Equal($"old-{k}", await second.GetAsync(k));
            }

            server.Pause();
            try
            {
                // The database takes every write; no invalidation gets an answer from the frozen server.
                for (var k = 0; k < 10; k++)
                {
                    await first.WriteAsync(k, $"new-{k}");
                    Assert.Equal($"new-{k}", await first.GetAsync(k));
                }
            }
            finally
            {
                server.Resume();
            }

            // Invalidations that failed or were skipped by the open circuit are the core's to replay (no read needed).
            // Whatever reached the server late and whatever was replayed: no entry holds an old row any more.
            await Wait.UntilAsync(
                async () =>
                {
                    for (var k = 0; k < 10; k++)
                    {
                        var stored = await server.Database.StringGetAsync($"{{o:String:{k}}}");
                        if (stored.HasValue && ((byte[])stored!).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes($"old-{k}")) >= 0)
                        {
                            return false;
                        }
                    }

                    return true;
                },
                TimeSpan.FromSeconds(30),
                "no Redis entry holds an old row");

            // Neither container reads an old row (the writer's core also retries its own pending keys before reading them).
            for (var k = 0; k < 10; k++)
            {
                Assert.Equal($"new-{k}", await second.GetAsync(k));
                Assert.Equal($"new-{k}", await first.GetAsync(k));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Overflowing_the_ledger_sweeps_the_strategys_prefix_and_reads_skip_redis_until_then()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            using var proxy = new TcpProxy(server.Port);
            var database = new FakeDatabase();
            for (var k = 0; k < 20; k++)
            {
                database.Seed(k, $"old-{k}");
            }

            var logs = new FakeLogCollector();
            CountingProvider provider = null!;
            await using var container = Container(
                $"127.0.0.1:{proxy.Port}",
                database,
                logs,
                resilience: o => o.MaxPendingInvalidations = 2,
                created: p => provider = p,
                redis: o => o.InstanceName = "sweep*[1]:");
            var strategy = container.GetRequiredService<ICacheStrategy<int, string>>();
            for (var k = 0; k < 20; k++)
            {
                Assert.Equal($"old-{k}", await strategy.GetAsync(k));
            }

            // Another strategy's keys (another prefix) and another application's keys (another instance name) stay.
            await server.Database.StringSetAsync("{sweep*[1]:Other:1}", "theirs");
            await server.Database.StringSetAsync("{other:String:1}", "theirs");

            proxy.Cut();
            for (var k = 0; k < 3; k++)
            {
                await strategy.WriteAsync(k, $"new-{k}");
            }

            // Three lost invalidations, room for two: never silent, and the cache is not read for this strategy.
            Assert.Single(logs.GetSnapshot(), r => r.Message.Contains("More than 2 invalidations", StringComparison.Ordinal));
            proxy.Restore();
            await Wait.UntilAsync(
                () => Task.FromResult(logs.GetSnapshot().Any(r => r.Message.Contains("Swept key prefix 'String:'", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(30),
                "the sweep finishes");
            for (var k = 0; k < 20; k++)
            {
                Assert.False(await server.Database.KeyExistsAsync($"{{sweep*[1]:String:{k}}}"), $"key {k} survived the sweep");
            }

            Assert.Equal("theirs", (string?)await server.Database.StringGetAsync("{sweep*[1]:Other:1}"));
            Assert.Equal("theirs", (string?)await server.Database.StringGetAsync("{other:String:1}"));

            // Every write is read back (the sweep removed the old rows), and the cache is used again.
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal($"new-{k}", await strategy.GetAsync(k));
            }

            var calls = provider.Calls;
            Assert.Equal("old-10", await strategy.GetAsync(10));
            Assert.True(provider.Calls > calls, "the cache is read again after the sweep");
            Assert.True(await server.Database.KeyExistsAsync("{sweep*[1]:String:10}"), "the read filled the cache again");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
