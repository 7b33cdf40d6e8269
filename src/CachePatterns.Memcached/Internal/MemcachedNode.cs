using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// One server: a lazily opened connection (replaced when it breaks), consecutive failures counted, marked dead after
/// <see cref="MemcachedCacheProviderOptions.FailuresBeforeDead"/> of them and probed on a <see cref="TimeProvider"/>
/// timer until it answers again. A dead node fails requests at once, without touching the network.
/// </summary>
internal sealed class MemcachedNode : IDisposable
{
    private static readonly MetaCommand[] NoCommands = [];
    private readonly MemcachedCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly Lock _stateLock = new();
    private MemcachedConnection? _connection;
    private ITimer? _probe;
    private int _failures;
    private int _probing;
    private bool _dead;
    private bool _disposed;

    public MemcachedNode(ServerAddress address, MemcachedCacheProviderOptions options, TimeProvider time, ILogger logger)
    {
        Address = address;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after the node is marked dead and after it is put back in use.</summary>
    public event Action<MemcachedNode>? StateChanged;

    public ServerAddress Address { get; }

    public string Name => Address.Name;

    public bool IsDead => Volatile.Read(ref _dead);

    /// <summary>Gets the connection in use, if one is open (tests poison it).</summary>
    internal MemcachedConnection? CurrentConnection => Volatile.Read(ref _connection);

    /// <summary>Sends commands and waits for their replies; <paramref name="cancellationToken"/> only stops the wait once they are sent.</summary>
    public Task<MetaResponse[]> ExecuteAsync(IReadOnlyList<MetaCommand> commands, bool quiet, CancellationToken cancellationToken)
    {
        var reply = SendAsync(commands, quiet, cancellationToken);
        return cancellationToken.CanBeCanceled && !reply.IsCompleted ? reply.WaitAsync(cancellationToken) : reply;
    }

    /// <summary>
    /// Sends commands and returns the task of their replies. <paramref name="cancellationToken"/> can stop it only while
    /// it waits for a connection (nothing is sent then); once sent, the reply is awaited to the end (bounded by the
    /// operation timeout), so the node's failure count sees every outcome and a caller that gave up can still act on
    /// the reply (give back a lease it was granted).
    /// </summary>
    public async Task<MetaResponse[]> SendAsync(IReadOnlyList<MetaCommand> commands, bool quiet, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IsDead)
        {
            throw Dead();
        }

        try
        {
            var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            var result = await connection.Send(commands, quiet, _options.OperationTimeout).ConfigureAwait(false);
            Volatile.Write(ref _failures, 0);
            return result;
        }
        catch (MemcachedException ex) when (ex.ErrorReply is not null)
        {
            // The server answered (with an error for this request only): the node is healthy.
            Volatile.Write(ref _failures, 0);
            throw;
        }
        catch (MemcachedException ex)
        {
            RecordFailure(ex);
            throw;
        }
    }

    /// <summary>Checks the node answers (<c>mn</c>), on the current connection or a new one.</summary>
    public async Task PingAsync(CancellationToken cancellationToken) => await ExecuteAsync(NoCommands, quiet: true, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        lock (_stateLock)
        {
            _disposed = true;
            _probe?.Dispose();
            _probe = null;
        }

        Interlocked.Exchange(ref _connection, null)?.Dispose();
    }

    private async Task<MemcachedConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection is { IsBroken: false })
        {
            return connection;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection = Volatile.Read(ref _connection);
            if (connection is { IsBroken: false })
            {
                return connection;
            }

            if (connection is not null)
            {
                Log.ConnectionClosed(_logger, Name, connection.Failure?.Message ?? "closed");
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            if (IsDead)
            {
                // Marked dead while this caller waited for the lock: do not queue one more connect timeout.
                throw Dead();
            }

            var fresh = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _connection, fresh);
            return fresh;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private MemcachedException Dead() =>
        new(CacheProviderFailureReason.NodeDown, $"Memcached node {Name} is marked dead after repeated failures; it is probed every {_options.DeadNodeProbeInterval}.", Name);

    private Task<MemcachedConnection> ConnectAsync(CancellationToken cancellationToken) =>
        MemcachedConnection.ConnectAsync(Address.Host, Address.Port, _options.ConnectTimeout, _options.OperationTimeout, _time, _options.MaxInFlightPerConnection, cancellationToken);

    private void RecordFailure(MemcachedException exception)
    {
        var failures = Interlocked.Increment(ref _failures);
        if (failures < _options.FailuresBeforeDead)
        {
            return;
        }

        lock (_stateLock)
        {
            if (_dead || _disposed)
            {
                return;
            }

            _dead = true;
            _probe = _time.CreateTimer(static state => ((MemcachedNode)state!).Probe(), this, _options.DeadNodeProbeInterval, _options.DeadNodeProbeInterval);
        }

        Log.NodeDead(_logger, Name, failures, _options.DeadNodeProbeInterval, exception);
        StateChanged?.Invoke(this);
    }

    private void Probe()
    {
        if (Interlocked.Exchange(ref _probing, 1) == 0)
        {
            _ = ProbeAsync();
        }
    }

    private async Task ProbeAsync()
    {
        MemcachedConnection? fresh = null;
        try
        {
            if (_options.RemapDeadNodes)
            {
                // Its keys were served by other nodes meanwhile, so what it still holds may be stale: empty it first.
                await MemcachedConnection.FlushAllAsync(Address.Host, Address.Port, _options.ConnectTimeout, _options.OperationTimeout, _time).ConfigureAwait(false);
            }

            fresh = await ConnectAsync(CancellationToken.None).ConfigureAwait(false);
            await fresh.ExecuteAsync(NoCommands, quiet: true, _options.OperationTimeout, CancellationToken.None).ConfigureAwait(false);
            lock (_stateLock)
            {
                if (_disposed)
                {
                    return;
                }

                Interlocked.Exchange(ref _connection, fresh)?.Dispose();
                fresh = null;
                Volatile.Write(ref _failures, 0);
                _dead = false;
                _probe?.Dispose();
                _probe = null;
            }

            Log.NodeAlive(_logger, Name);
            StateChanged?.Invoke(this);
        }
        catch (Exception)
        {
            // Still dead; the timer probes again.
        }
        finally
        {
            fresh?.Dispose();
            Volatile.Write(ref _probing, 0);
        }
    }
}
