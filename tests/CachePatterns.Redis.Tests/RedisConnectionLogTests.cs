using CachePatterns.Internal;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Redis.Tests;

/// <summary>The log stays readable while the connection to Redis keeps failing.</summary>
public sealed class RedisConnectionLogTests
{
    private const int ConnectionFailedEvent = 102;

    [Fact]
    public async Task Connection_failures_of_a_flapping_link_are_logged_once_per_interval_with_the_count_held_back()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            // A relay that resets connections (a load balancer whose backend flaps): every time the connections come back
            // and are reset again, StackExchange.Redis reports a failure per connection (interactive and subscription).
            using var proxy = new TcpProxy(server.Port);
            var time = new FakeTimeProvider();
            var logs = new FakeLogCollector();
            using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
            using var provider = new RedisCacheProvider(
                Options.Create(new RedisCacheProviderOptions { Configuration = $"127.0.0.1:{proxy.Port},connectTimeout=1000", InstanceName = "log:" }),
                loggerFactory.CreateLogger<RedisCacheProvider>(),
                time);
            await provider.Connection.GetDatabaseAsync();
            var failures = 0;
            provider.Connection.Multiplexer!.ConnectionFailed += (_, _) => Interlocked.Increment(ref failures);
            List<FakeLogRecord> Lines() => [.. logs.GetSnapshot().Where(r => r.Id.Id == ConnectionFailedEvent)];

            async Task FlapAsync(bool restoreFirst)
            {
                if (restoreFirst)
                {
                    proxy.Restore();
                    await Wait.UntilAsync(() => Task.FromResult(provider.Connection.Multiplexer!.IsConnected), TimeSpan.FromSeconds(60), "the connection is restored");
                }

                var before = Volatile.Read(ref failures);
                proxy.Cut();
                await Wait.UntilAsync(() => Task.FromResult(Volatile.Read(ref failures) > before), TimeSpan.FromSeconds(60), "the reset is reported");
            }

            for (var flap = 0; flap < 3; flap++)
            {
                await FlapAsync(restoreFirst: flap > 0);
            }

            // Three flaps within the interval (the clock does not move): one line.
            var reported = Volatile.Read(ref failures);
            Assert.True(reported >= 3, $"{reported} failures reported");
            var first = Assert.Single(Lines());
            Assert.Contains("0 more connection failures", first.Message, StringComparison.Ordinal);

            // The next interval: the next failure is logged, with the count of those held back.
            time.Advance(LogRateLimiter.DefaultInterval);
            await FlapAsync(restoreFirst: true);
            await Wait.UntilAsync(() => Task.FromResult(Lines().Count >= 2), TimeSpan.FromSeconds(60), "the first failure after the interval is logged");
            var second = Lines()[1].Message;
            var held = long.Parse(second[(second.IndexOf("). ", StringComparison.Ordinal) + 3)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(held >= reported - 1, $"{reported} failures before the interval ended, the line says: {second}");
            Assert.Equal(2, Lines().Count);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
