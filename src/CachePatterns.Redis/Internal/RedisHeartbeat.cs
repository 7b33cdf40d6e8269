using CachePatterns.Providers;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Tells the core when Redis stops or starts answering (<see cref="ICacheProvider.ConnectionChanged"/>). A broken
/// connection is reported by StackExchange.Redis; a connection that stays open while the server does not answer (a paused
/// or hung server, a network black hole) is not, so a <c>PING</c> goes out every
/// <see cref="RedisCacheProviderOptions.HeartbeatInterval"/>, one at a time, and one left unanswered for
/// <see cref="RedisCacheProviderOptions.HeartbeatTimeout"/> reports the connection lost. "Restored" is reported only when a
/// <c>PING</c> is answered again: after StackExchange.Redis reconnects (a restarted server) one is sent at once, and a server
/// still loading its data set (<c>LOADING</c>) is not reported back until it answers.
/// </summary>
internal sealed class RedisHeartbeat : IDisposable
{
    private readonly RedisConnection _connection;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Func<bool> _isCluster;
    private readonly Lock _lock = new();
    private long _pingStartedAt;
    private bool _lost;
    private bool _disposed;

    public RedisHeartbeat(RedisConnection connection, RedisCacheProviderOptions options, TimeProvider time, ILogger logger, Func<bool> isCluster)
    {
        // On a Cluster each primary is watched on its own (RedisClusterNodes): one hung node is not the whole cache.
        _isCluster = isCluster;
        _connection = connection;
        _time = time;
        _timeout = options.HeartbeatTimeout;
        _logger = logger;
        connection.Failed += reason =>
        {
            if (!_isCluster())
            {
                SetLost(reason);
            }
        };
        connection.Restored += () => _ = PingAsync();
        _timer = time.CreateTimer(static s => ((RedisHeartbeat)s!).Tick(), this, options.HeartbeatInterval, options.HeartbeatInterval);
    }

    /// <summary>Raised on a change: lost (with the reason) or restored.</summary>
    public event Action<CacheConnectionChangedEventArgs>? Changed;

    /// <summary>Gets a value indicating whether the server is currently judged not answering.</summary>
    public bool IsLost => Volatile.Read(ref _lost);

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    private void Tick()
    {
        if (_connection.Multiplexer is null || _isCluster())
        {
            // Not connected yet (first use connects): nothing to watch.
            return;
        }

        var started = Interlocked.Read(ref _pingStartedAt);
        if (started != 0)
        {
            if (_time.GetElapsedTime(started) >= _timeout)
            {
                SetLost(CacheProviderFailureReason.Timeout);
            }

            return;
        }

        _ = PingAsync();
    }

    private async Task PingAsync()
    {
        var multiplexer = _connection.Multiplexer;
        if (multiplexer is null || Interlocked.CompareExchange(ref _pingStartedAt, _time.GetTimestamp(), 0) != 0)
        {
            return;
        }

        try
        {
            await multiplexer.GetDatabase().PingAsync().ConfigureAwait(false);
            SetRestored();
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            SetLost(RedisFailures.ReasonOf(ex, _connection.LastFailureReason));
        }
        finally
        {
            Interlocked.Exchange(ref _pingStartedAt, 0);
        }
    }

    private void SetLost(CacheProviderFailureReason reason)
    {
        lock (_lock)
        {
            if (_lost || _disposed)
            {
                return;
            }

            _lost = true;
        }

        Log.ServerNotAnswering(_logger, reason.ToString());
        Changed?.Invoke(new CacheConnectionChangedEventArgs(CacheConnectionState.Lost, reason));
    }

    private void SetRestored()
    {
        lock (_lock)
        {
            if (!_lost || _disposed)
            {
                return;
            }

            _lost = false;
        }

        Log.ServerAnswersAgain(_logger);
        Changed?.Invoke(new CacheConnectionChangedEventArgs(CacheConnectionState.Restored));
    }
}
