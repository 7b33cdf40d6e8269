using System.Net;
using System.Net.Sockets;
using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

public sealed class ClientTests(MemcachedFixture fixture) : IClassFixture<MemcachedFixture>
{
    private static string NewKey() => "t:" + Guid.NewGuid().ToString("N");

    private MemcachedClient Create(Action<MemcachedCacheProviderOptions>? configure = null) => Clients.Create([fixture.Server.Address], configure);

    [Fact]
    public async Task Set_get_delete_round_trip()
    {
        using var client = Create();
        var key = NewKey();
        var set = await client.SetAsync(key, "hello"u8.ToArray(), TimeSpan.FromMinutes(1), "F7", default);
        Assert.Equal(MetaStatus.Stored, set.Status);

        var hit = await client.GetAsync(key, "v f t c", default);
        Assert.Equal(MetaStatus.Value, hit.Status);
        Assert.Equal("hello", Encoding.UTF8.GetString(hit.Value!));
        Assert.Equal(7u, hit.ClientFlags);
        Assert.InRange(hit.Ttl, 1, 61);
        Assert.NotEqual(0ul, hit.Cas);

        Assert.Equal(MetaStatus.Stored, (await client.DeleteAsync(key, string.Empty, default)).Status);
        Assert.Equal(MetaStatus.Miss, (await client.GetAsync(key, "v", default)).Status);
        Assert.Equal(MetaStatus.NotFound, (await client.DeleteAsync(key, string.Empty, default)).Status);
    }

    [Fact]
    public async Task Values_with_crlf_and_binary_bytes_are_read_by_length()
    {
        using var client = Create();
        var key = NewKey();
        var value = new byte[70_000];
        Random.Shared.NextBytes(value);
        value[10] = (byte)'\r';
        value[11] = (byte)'\n';
        await client.SetAsync(key, value, null, string.Empty, default);
        var hit = await client.GetAsync(key, "v", default);
        Assert.Equal(value, hit.Value);
    }

    [Fact]
    public async Task Pipelined_requests_from_many_tasks_each_get_their_own_reply()
    {
        using var client = Create(o => o.MaxInFlightPerConnection = 100_000);
        var prefix = NewKey();
        var tasks = Enumerable.Range(0, 64).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                var key = $"{prefix}:{t}:{i % 10}";
                var value = $"{t}-{i}";
                switch (i % 4)
                {
                    case 0:
                    case 1:
                        Assert.Equal(MetaStatus.Stored, (await client.SetAsync(key, Encoding.UTF8.GetBytes(value), TimeSpan.FromMinutes(1), string.Empty, default)).Status);
                        var got = await client.GetAsync(key, "v k", default);
                        Assert.Equal(value, Encoding.UTF8.GetString(got.Value!));
                        break;
                    case 2:
                        var many = await client.GetManyAsync([$"{prefix}:{t}:{(i - 1) % 10}", $"{prefix}:none:{i}"], "v", default);
                        Assert.Equal($"{t}-{i - 1}", Encoding.UTF8.GetString(many[0].Response!.Value!));
                        Assert.Equal(MetaStatus.Miss, many[1].Response!.Status);
                        break;
                    default:
                        await client.DeleteAsync(key, string.Empty, default);
                        Assert.Equal(MetaStatus.Miss, (await client.GetAsync(key, "v", default)).Status);
                        break;
                }
            }
        }));
        await Task.WhenAll(tasks);
        Assert.Single(client.Nodes);
        Assert.False(client.Nodes[0].CurrentConnection!.IsBroken);
    }

    [Fact]
    public async Task Long_key_is_rejected_naming_it_unless_hashing_is_on()
    {
        using var strict = Create(o => o.HashInvalidKeys = false);
        var longKey = new string('k', 251);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => strict.GetAsync(longKey, "v", default));
        Assert.Contains("251 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("kkkk", error.Message, StringComparison.Ordinal);

        var spaced = await Assert.ThrowsAsync<ArgumentException>(() => strict.GetAsync("a b", "v", default));
        Assert.Contains("'a b'", spaced.Message, StringComparison.Ordinal);
        Assert.Contains("whitespace", spaced.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => strict.GetAsync("a\u0001b", "v", default));
        await Assert.ThrowsAsync<ArgumentException>(() => strict.GetAsync("a\nb", "v", default));

        using var hashing = Create();
        await hashing.SetAsync(longKey, "x"u8.ToArray(), null, string.Empty, default);
        await hashing.SetAsync("with space\r\n", "y"u8.ToArray(), null, string.Empty, default);
        Assert.Equal("x", Encoding.UTF8.GetString((await hashing.GetAsync(longKey, "v", default)).Value!));
        Assert.Equal("y", Encoding.UTF8.GetString((await hashing.GetAsync("with space\r\n", "v", default)).Value!));
        // Hashed keys start with a byte no UTF-8 key contains, so no application key (not even "sha256:...") is one.
        Assert.Equal(0xFE, hashing.EncodeKey(longKey)[0]);
        Assert.Equal("sha256:", Encoding.ASCII.GetString(hashing.EncodeKey(longKey), 1, 7));
        Assert.NotEqual(hashing.EncodeKey(longKey), hashing.EncodeKey(Encoding.Latin1.GetString(hashing.EncodeKey(longKey))));
        Assert.True(hashing.EncodeKey(longKey).Length <= 250);
    }

    [Fact]
    public void Ttl_is_normalised_for_memcached()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var client = Clients.Create([fixture.Server.Address], time: time);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(0, client.TtlSeconds(null));

        // Rounded up, plus memcached's one-second clock tick: never shorter than asked.
        Assert.Equal(2, client.TtlSeconds(TimeSpan.FromMilliseconds(10)));
        Assert.Equal(91, client.TtlSeconds(TimeSpan.FromSeconds(89.5)));
        Assert.Equal(2_592_000, client.TtlSeconds(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1)));
        Assert.Equal(now + 2_592_001, client.TtlSeconds(TimeSpan.FromDays(30)));
        Assert.Equal(now + (31 * 86_400) + 1, client.TtlSeconds(TimeSpan.FromDays(31)));
        Assert.Equal(-1, client.TtlSeconds(TimeSpan.Zero));

        // Past what memcached can represent (a signed 32-bit Unix time, 2038-01-19): clamped to it.
        Assert.Equal(int.MaxValue, client.TtlSeconds(TimeSpan.FromDays(365 * 20)));
        Assert.Equal(int.MaxValue, client.TtlSeconds(TimeSpan.MaxValue));
    }

    [Fact]
    public async Task Ttl_over_30_days_is_stored_as_absolute_time_and_does_not_expire_at_once()
    {
        using var client = Create();
        var key = NewKey();
        await client.SetAsync(key, "v"u8.ToArray(), TimeSpan.FromDays(40), string.Empty, default);
        var hit = await client.GetAsync(key, "v t", default);
        Assert.Equal(MetaStatus.Value, hit.Status);
        Assert.InRange(hit.Ttl, TimeSpan.FromDays(39).TotalSeconds, TimeSpan.FromDays(41).TotalSeconds);
    }

    [Fact]
    public async Task Timeout_closes_the_connection_and_the_next_call_uses_a_fresh_one()
    {
        using var client = Create(o => o.OperationTimeout = TimeSpan.FromMilliseconds(300));
        var key = NewKey();
        await client.SetAsync(key, "v"u8.ToArray(), null, string.Empty, default);
        var first = client.Nodes[0].CurrentConnection!;
        fixture.Server.Signal("STOP");
        try
        {
            var error = await Assert.ThrowsAsync<MemcachedException>(() => client.GetAsync(key, "v", default));
            Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
            Assert.True(first.IsBroken);
        }
        finally
        {
            fixture.Server.Signal("CONT");
        }

        var hit = await client.GetAsync(key, "v", default);
        Assert.Equal("v", Encoding.UTF8.GetString(hit.Value!));
        Assert.NotSame(first, client.Nodes[0].CurrentConnection);
    }

    [Fact]
    public async Task Requests_over_the_in_flight_cap_fail_fast()
    {
        using var silent = new SilentServer();
        using var client = Clients.Create([silent.Address], o =>
        {
            o.MaxInFlightPerConnection = 4;
            o.OperationTimeout = TimeSpan.FromSeconds(5);
            o.FailuresBeforeDead = 100;
        });
        var stuck = Enumerable.Range(0, 4).Select(i => client.GetAsync("k" + i, "v", default)).ToArray();
        await Task.Delay(200);
        var error = await Assert.ThrowsAsync<MemcachedException>(() => client.GetAsync("k5", "v", default));
        Assert.Contains("Too many requests in flight", error.Message, StringComparison.Ordinal);
        Assert.All(stuck, t => Assert.False(t.IsCompleted));
        client.Nodes[0].CurrentConnection!.Poison(new MemcachedException("test"));
        foreach (var task in stuck)
        {
            await Assert.ThrowsAsync<MemcachedException>(() => task);
        }
    }

    [Fact]
    public async Task A_reply_with_the_wrong_opaque_poisons_the_connection()
    {
        using var liar = new SilentServer("HD O999\r\n");
        using var client = Clients.Create([liar.Address]);
        var error = await Assert.ThrowsAsync<MemcachedException>(() => client.DeleteAsync("k", string.Empty, default));
        Assert.Contains("out of step", error.Message, StringComparison.Ordinal);
        Assert.True(client.Nodes[0].CurrentConnection!.IsBroken);
    }

    [Fact]
    public async Task Cancelled_request_does_not_break_the_pipeline()
    {
        using var client = Create();
        var key = NewKey();
        await client.SetAsync(key, "v"u8.ToArray(), null, string.Empty, default);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(key, "v", cts.Token));
        Assert.Equal("v", Encoding.UTF8.GetString((await client.GetAsync(key, "v", default)).Value!));
    }

    /// <summary>Accepts connections and answers every read with a fixed reply (or nothing).</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _clients = [];

        public SilentServer(string? reply = null)
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }

                    _ = Task.Run(async () =>
                    {
                        var stream = client.GetStream();
                        var buffer = new byte[4096];
                        while (await stream.ReadAsync(buffer, _stop.Token) > 0)
                        {
                            if (reply is not null)
                            {
                                await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), _stop.Token);
                            }
                        }
                    });
                }
            });
        }

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }
    }
}
