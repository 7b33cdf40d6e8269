using System.Globalization;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The Redis provider's <see cref="ICacheInvalidationSource"/>: a pub/sub subscription to the channel the scripts publish on
/// (<see cref="RedisPublishingScripts"/>), on the provider's own multiplexer.
/// </summary>
/// <remarks>
/// <para>Why pub/sub from the scripts and not <c>CLIENT TRACKING</c>: StackExchange.Redis 3.4.35 speaks RESP3 by default
/// and drops RESP3 <c>invalidate</c> pushes (its push kinds are the pub/sub ones only; the string does not occur in the
/// assembly), connection ids are internal, and <c>CLIENT TRACKING</c> needs admin mode; tracking also lives per node on a
/// Cluster. See docs/providers.md, "Near cache".</para>
/// <para>Pub/sub is at-most-once, so the channel is "connected" only between a confirmed subscription and the next sign
/// that a message may have been missed: StackExchange.Redis reports a connection failed, the provider's heartbeat finds the
/// server frozen, or a Cluster node is down. Each such sign calls <see cref="ICacheInvalidationObserver.OnDisconnected"/>
/// at once; the channel is confirmed again by a probe the client publishes to itself on the same channel after the
/// connection is back: once it arrives, everything published after it will arrive too (one subscription, one connection,
/// in order), and <see cref="ICacheInvalidationObserver.OnConnected"/> is called.</para>
/// </remarks>
internal sealed class RedisInvalidationChannel : ICacheInvalidationSource, IDisposable
{
    /// <summary>How long a probe may take before it is sent again.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    private readonly RedisConnection _connection;
    private readonly RedisServerClock _clock;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _instanceName;
    private readonly TimeSpan _retryInterval;
    private readonly Lock _lock = new();
    private readonly List<ICacheInvalidationObserver> _observers = [];
    private readonly CancellationTokenSource _disposed = new();
    private TaskCompletionSource<bool>? _probe;
    private string? _probeNonce;
    private bool _started;
    private bool _connected;
    private long _generation;
    private int _resyncing;

    public RedisInvalidationChannel(RedisConnection connection, RedisCacheProviderOptions options, RedisServerClock clock, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _clock = clock;
        _time = time;
        _logger = logger;
        _instanceName = options.InstanceName;
        _retryInterval = options.HeartbeatInterval;
        Channel = "cachepatterns:invalidations:" + options.InstanceName;
        Source = Random.Shared.NextInt64(1, long.MaxValue).ToString(CultureInfo.InvariantCulture);
        ChannelArgument = options.PublishInvalidations ? Channel : string.Empty;
        connection.Failed += _ => Lost("connection_failed");
        connection.Restored += Resynchronize;
    }

    /// <summary>Gets the channel's name: <c>cachepatterns:invalidations:</c> + the instance name.</summary>
    public string Channel { get; }

    /// <summary>Gets this client's id in the messages it publishes (its own are skipped).</summary>
    public string Source { get; }

    /// <summary>Gets the channel the scripts publish on: <see cref="Channel"/>, or empty when publishing is off.</summary>
    public string ChannelArgument { get; }

    public bool IsConnected
    {
        get
        {
            lock (_lock)
            {
                return _connected;
            }
        }
    }

    public IDisposable Subscribe(ICacheInvalidationObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        bool start;
        lock (_lock)
        {
            _observers.Add(observer);
            if (_connected)
            {
                observer.OnConnected();
            }

            start = !_started;
            _started = true;
        }

        if (start)
        {
            _ = SubscribeAsync();
        }

        return new Subscription(this, observer);
    }

    /// <summary>The provider's heartbeat or a Cluster node reports a change.</summary>
    public void OnConnectionChanged(CacheConnectionChangedEventArgs change)
    {
        if (change.State == CacheConnectionState.Lost)
        {
            Lost(change.Node is null ? "server_not_answering" : "node_not_answering");
        }
        else
        {
            Resynchronize();
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }

    private async Task SubscribeAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                await _connection.GetDatabaseAsync(_disposed.Token).ConfigureAwait(false);
                var subscriber = _connection.Multiplexer!.GetSubscriber();
                await subscriber.SubscribeAsync(RedisChannel.Literal(Channel), OnMessage).ConfigureAwait(false);
                Log.InvalidationChannelSubscribed(_logger, Channel);
                Resynchronize();
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
            {
                if (_disposed.IsCancellationRequested)
                {
                    return;
                }

                await DelayAsync(_retryInterval).ConfigureAwait(false);
            }
        }
    }

    private void Lost(string reason)
    {
        ICacheInvalidationObserver[] observers;
        lock (_lock)
        {
            _generation++;
            if (!_connected)
            {
                return;
            }

            _connected = false;
            observers = [.. _observers];
        }

        Log.InvalidationChannelLost(_logger, Channel, reason);
        foreach (var observer in observers)
        {
            observer.OnDisconnected(reason);
        }
    }

    /// <summary>Confirms the subscription with a probe, retried until it arrives, unless a loss came meanwhile.</summary>
    private void Resynchronize()
    {
        if (Interlocked.Exchange(ref _resyncing, 1) == 0)
        {
            _ = ResynchronizeAsync();
        }
    }

    private async Task ResynchronizeAsync()
    {
        try
        {
            while (!_disposed.IsCancellationRequested)
            {
                long generation;
                lock (_lock)
                {
                    if (_connected || !_started)
                    {
                        return;
                    }

                    generation = _generation;
                }

                if (await ProbeAsync().ConfigureAwait(false))
                {
                    ICacheInvalidationObserver[] observers;
                    lock (_lock)
                    {
                        if (_generation != generation)
                        {
                            continue;
                        }

                        _connected = true;
                        observers = [.. _observers];
                    }

                    Log.InvalidationChannelConfirmed(_logger, Channel);
                    _ = SampleClockAsync();
                    foreach (var observer in observers)
                    {
                        observer.OnConnected();
                    }

                    return;
                }

                await DelayAsync(_retryInterval).ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _resyncing, 0);
        }
    }

    /// <summary>Publishes a probe to this client and waits until the subscription delivers it back.</summary>
    private async Task<bool> ProbeAsync()
    {
        var probe = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nonce = Random.Shared.NextInt64(1, long.MaxValue).ToString(CultureInfo.InvariantCulture);
        lock (_lock)
        {
            _probe = probe;
            _probeNonce = nonce;
        }

        try
        {
            var multiplexer = _connection.Multiplexer;
            if (multiplexer is null)
            {
                return false;
            }

            await multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(Channel), RedisInvalidationMessage.Probe(Source, nonce)).ConfigureAwait(false);
            return await probe.Task.WaitAsync(ProbeTimeout, _time, _disposed.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// A fresh sample of the server clock once the connection is warm: the delays are measured against it, and the first
    /// sample (taken while connecting, through a cold client) may have a round trip of milliseconds, which is its error.
    /// </summary>
    private async Task SampleClockAsync()
    {
        try
        {
            var db = await _connection.GetDatabaseAsync(_disposed.Token).ConfigureAwait(false);
            await _clock.SampleBestOfAsync(db, 16).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // The delay histogram then uses the older sample, or records nothing without one.
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        if (!RedisInvalidationMessage.TryParse(value, out var message))
        {
            return;
        }

        if (message.Source == Source)
        {
            if (message.Kind == 'p')
            {
                TaskCompletionSource<bool>? probe;
                lock (_lock)
                {
                    probe = message.Value == _probeNonce ? _probe : null;
                }

                probe?.TrySetResult(true);
            }

            // This client's own changes: its near cache dropped its copy already.
            return;
        }

        TimeSpan? delay = _clock.TryNowMicroseconds(out var now) && message.ServerMicroseconds > 0
            ? TimeSpan.FromTicks(Math.Max(0, now - message.ServerMicroseconds) * 10)
            : null;
        if (!message.TryToInvalidation(_instanceName, delay, out var invalidation))
        {
            return;
        }

        ICacheInvalidationObserver[] observers;
        lock (_lock)
        {
            observers = [.. _observers];
        }

        foreach (var observer in observers)
        {
            observer.OnInvalidated(invalidation);
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _disposed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private sealed class Subscription(RedisInvalidationChannel channel, ICacheInvalidationObserver observer) : IDisposable
    {
        public void Dispose()
        {
            lock (channel._lock)
            {
                channel._observers.Remove(observer);
            }
        }
    }
}
