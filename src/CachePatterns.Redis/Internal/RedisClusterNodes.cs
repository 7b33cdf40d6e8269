using System.Collections.Concurrent;
using System.Net;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Per-node gray-failure detection on a Redis Cluster (docs/providers.md, "Redis Cluster"). On a Cluster every failure is
/// attributed to the primary that owns the key's slot (<see cref="CacheProviderException.Node"/>), so it never opens the
/// whole cache's circuit. A primary is judged down when <see cref="ConsecutiveTimeoutsToDown"/> calls time out with no
/// answered <c>PING</c> between them, or when its heartbeat <c>PING</c> (one per primary every
/// <see cref="RedisCacheProviderOptions.HeartbeatInterval"/>) stays unanswered for
/// <see cref="RedisCacheProviderOptions.HeartbeatTimeout"/>; its calls then fail at once with
/// <see cref="CacheProviderFailureReason.NodeDown"/> until a <c>PING</c> is answered again. A single server is not watched
/// here (<see cref="RedisHeartbeat"/> watches it, and its failures carry no node).
/// </summary>
internal sealed class RedisClusterNodes : IDisposable
{
    /// <summary>The core's default <c>ConsecutiveTimeoutsToOpen</c>: the same rule, applied to one node.</summary>
    internal const int ConsecutiveTimeoutsToDown = 5;

    private readonly RedisConnection _connection;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly ConcurrentDictionary<EndPoint, Node> _nodes = new();
    private int _topology; // 0 unknown, 1 single server, 2 Cluster
    private int _down;
    private volatile bool _disposed;

    public RedisClusterNodes(RedisConnection connection, RedisCacheProviderOptions options, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _time = time;
        _timeout = options.HeartbeatTimeout;
        _logger = logger;
        _timer = time.CreateTimer(static s => ((RedisClusterNodes)s!).Tick(), this, options.HeartbeatInterval, options.HeartbeatInterval);
    }

    /// <summary>Raised when one primary is judged down or answers again (<see cref="CacheConnectionChangedEventArgs.Node"/> set).</summary>
    public event Action<CacheConnectionChangedEventArgs>? Changed;

    /// <summary>Gets a value indicating whether any primary is down: the only thing the hit path reads (one volatile read).</summary>
    public bool AnyDown => Volatile.Read(ref _down) != 0;

    /// <summary>Gets a value indicating whether the connection is to a Cluster (known once a server answered).</summary>
    public bool IsCluster
    {
        get
        {
            var topology = Volatile.Read(ref _topology);
            if (topology != 0)
            {
                return topology == 2;
            }

            var multiplexer = _connection.Multiplexer;
            if (multiplexer is null)
            {
                return false;
            }

            foreach (var server in multiplexer.GetServers())
            {
                if (server.IsConnected)
                {
                    topology = server.ServerType == ServerType.Cluster ? 2 : 1;
                    Volatile.Write(ref _topology, topology);
                    return topology == 2;
                }
            }

            return false;
        }
    }

    /// <summary>Fails a call at once when the primary owning <paramref name="key"/> is down (call only when <see cref="AnyDown"/>).</summary>
    public void ThrowIfDown(RedisKey key)
    {
        if (NodeOf(key) is { } node && Volatile.Read(ref node.Down))
        {
            throw new CacheProviderException(
                CacheProviderFailureReason.NodeDown,
                $"Redis Cluster node {node.Name} does not answer; its keys skip the cache until it does.",
                node.Name);
        }
    }

    /// <summary>Whether a failure is to be attributed to a node: a Redis failure, or the call's timeout, on a Cluster.</summary>
    public bool IsNodeFailure(Exception exception, CancellationToken cancellationToken) =>
        (RedisFailures.IsRedisFailure(exception) || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)) && IsCluster;

    /// <summary>
    /// The exception for a failure on the node owning <paramref name="key"/>. The call's timeout stays an
    /// <see cref="OperationCanceledException"/> (the caller's own cancellation must reach the caller as one) with the
    /// node-scoped <see cref="CacheProviderFailureReason.Timeout"/> as its inner exception, which the core's pipeline reads.
    /// </summary>
    public Exception Attribute(Exception exception, RedisKey key, CancellationToken cancellationToken)
    {
        if (NodeOf(key) is not { } node)
        {
            // The key's node is not known (no slot map yet): the failure stays the whole cache's.
            return exception is OperationCanceledException ? exception : RedisFailures.Translate(exception, _connection);
        }

        if (exception is OperationCanceledException)
        {
            var name = node.Name;
            if (Interlocked.Increment(ref node.Timeouts) >= ConsecutiveTimeoutsToDown)
            {
                MarkDown(node, CacheProviderFailureReason.Timeout);
            }

            return new OperationCanceledException(
                exception.Message,
                new CacheProviderException(CacheProviderFailureReason.Timeout, $"Redis Cluster node {name}: timeout", name, exception),
                cancellationToken);
        }

        return RedisFailures.Translate(exception, _connection, node.Name);
    }

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
    }

    private Node? NodeOf(RedisKey key)
    {
        try
        {
            var endpoint = _connection.Multiplexer?.GetServer(key).EndPoint;
            return endpoint is null ? null : _nodes.GetOrAdd(endpoint, static e => new Node(e));
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex) || ex is InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    private void Tick()
    {
        if (_disposed || !IsCluster || _connection.Multiplexer is not { } multiplexer)
        {
            return;
        }

        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            var node = _nodes.GetOrAdd(server.EndPoint, static e => new Node(e));
            var started = Interlocked.Read(ref node.PingStartedAt);
            if (started != 0)
            {
                if (_time.GetElapsedTime(started) >= _timeout)
                {
                    MarkDown(node, CacheProviderFailureReason.Timeout);
                }

                continue;
            }

            _ = PingAsync(server, node);
        }
    }

    private async Task PingAsync(IServer server, Node node)
    {
        if (Interlocked.CompareExchange(ref node.PingStartedAt, _time.GetTimestamp(), 0) != 0)
        {
            return;
        }

        try
        {
            await server.PingAsync().ConfigureAwait(false);
            Interlocked.Exchange(ref node.Timeouts, 0);
            MarkUp(node);
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            MarkDown(node, RedisFailures.ReasonOf(ex, _connection.LastFailureReason));
        }
        finally
        {
            Interlocked.Exchange(ref node.PingStartedAt, 0);
        }
    }

    private void MarkDown(Node node, CacheProviderFailureReason reason)
    {
        lock (node)
        {
            if (node.Down || _disposed)
            {
                return;
            }

            Volatile.Write(ref node.Down, true);
            Interlocked.Increment(ref _down);
        }

        Log.ClusterNodeNotAnswering(_logger, node.Name, reason.ToString());
        Changed?.Invoke(new CacheConnectionChangedEventArgs(CacheConnectionState.Lost, reason, node.Name));
    }

    private void MarkUp(Node node)
    {
        lock (node)
        {
            if (!node.Down || _disposed)
            {
                return;
            }

            Volatile.Write(ref node.Down, false);
            Interlocked.Decrement(ref _down);
        }

        Log.ClusterNodeAnswersAgain(_logger, node.Name);
        Changed?.Invoke(new CacheConnectionChangedEventArgs(CacheConnectionState.Restored, node: node.Name));
    }

    private sealed class Node(EndPoint endpoint)
    {
        public readonly string Name = endpoint is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endpoint.ToString() ?? "?";
        public bool Down;
        public int Timeouts;
        public long PingStartedAt;
    }
}
