using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace CachePatterns.Tests.Support;

/// <summary>
/// Deliberately wrong near cache, the way a hand-written L1 (and FusionCache's backplane) does it: an in-process copy in
/// front of a correct, fenced strategy, dropped when any process publishes the key on a Redis channel after its write —
/// but a fill is stored unconditionally, so a remote read that began before another process's write can put the old
/// value into L1 after that write's invalidation went by, and it stays there. The checker must catch it.
/// </summary>
public sealed class NaiveNearCache : CheckedStrategy, IAsyncDisposable
{
    private readonly ICacheStrategy<int, string> _remote;
    private readonly ConnectionMultiplexer _bus;
    private readonly RedisChannel _channel;
    private readonly ConcurrentDictionary<int, string?> _copies = new();

    private NaiveNearCache(ICacheStrategy<int, string> remote, ConnectionMultiplexer bus, string channel)
    {
        _remote = remote;
        _bus = bus;
        _channel = RedisChannel.Literal(channel);
    }

    public override string Name => "naive-near";

    /// <summary>Connects the invalidation bus and subscribes before it returns, so no invalidation published later is missed.</summary>
    public static async Task<NaiveNearCache> CreateAsync(ICacheStrategy<int, string> remote, string redisConfiguration, string channel)
    {
        var bus = await ConnectionMultiplexer.ConnectAsync(redisConfiguration);
        var cache = new NaiveNearCache(remote, bus, channel);
        await bus.GetSubscriber().SubscribeAsync(cache._channel, (channel, message) => cache._copies.TryRemove(int.Parse((string)message!, CultureInfo.InvariantCulture), out string? _));
        return cache;
    }

    public override async ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default)
    {
        if (_copies.TryGetValue(key, out var copy))
        {
            return copy;
        }

        var value = await _remote.GetAsync(key, cancellationToken);
        _copies[key] = value;
        return value;
    }

    public override async ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default) =>
        _copies.TryGetValue(key, out var copy) ? (true, copy) : await _remote.TryGetAsync(key, cancellationToken);

    public override async ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        await _remote.WriteAsync(key, value, options, cancellationToken);
        await DropEverywhereAsync(key);
    }

    public override async ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default)
    {
        await _remote.RemoveAsync(key, cancellationToken);
        await DropEverywhereAsync(key);
    }

    public override async ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default)
    {
        await _remote.InvalidateAsync(key, cancellationToken);
        await DropEverywhereAsync(key);
    }

    public ValueTask DisposeAsync() => _bus.DisposeAsync();

    private async Task DropEverywhereAsync(int key)
    {
        _copies.TryRemove(key, out _);
        await _bus.GetSubscriber().PublishAsync(_channel, key.ToString(CultureInfo.InvariantCulture));
    }
}
