using System.Net.Sockets;
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
    private int _lastProbeFailure;
    private Task? _probeInProgress;
    private bool _dead;
    private bool _disposed;

    /// <summary>Writes skipped while the node was dead (<see cref="TrySkipWhileDead"/>): its revival empties it after the last one.</summary>
    private long _writesSkipped;

    public MemcachedNode(ServerAddress address, MemcachedCacheProviderOptions options, TimeProvider time, ILogger logger)
    {
        Address = address;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after the node is marked dead (with the failure's reason) and after it is put back in use (<see langword="null"/>).</summary>
    public event Action<MemcachedNode, CacheProviderFailureReason?>? StateChanged;

    public ServerAddress Address { get; }

    public string Name => Address.Name;

    public bool IsDead => Volatile.Read(ref _dead);

    /// <summary>
    /// Gets a value indicating whether this client empties the node (<c>flush_all</c>) before it uses it again after it was
    /// marked dead: <see cref="MemcachedReturningNodePolicy.Flush"/> or <see cref="MemcachedCacheProviderOptions.RemapDeadNodes"/>.
    /// </summary>
    public bool EmptiedOnReturn => _options.RemapDeadNodes || _options.ReturningNodes == MemcachedReturningNodePolicy.Flush;

    /// <summary>
    /// For a write that need not reach a dead node because it will be emptied before this client uses it again (a tag
    /// version's copy: docs/architecture.md, "The tagged hit on several memcached nodes"): when the node is dead and
    /// <see cref="EmptiedOnReturn"/>, records the skip — the revival then empties the node after it, even if a flush was
    /// already under way — and returns true; otherwise false, and the caller writes.
    /// </summary>
    public bool TrySkipWhileDead()
    {
        if (!EmptiedOnReturn)
        {
            return false;
        }

        lock (_stateLock)
        {
            if (!_dead || _disposed)
            {
                return false;
            }

            _writesSkipped++;
            return true;
        }
    }

    /// <summary>Gets why the node was marked dead, or why its last probe failed since.</summary>
    public CacheProviderFailureReason LastFailureReason => (CacheProviderFailureReason)Volatile.Read(ref _lastProbeFailure);

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
        if (IsDead && !await ReviveForWriteAsync(commands, cancellationToken).ConfigureAwait(false))
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

    /// <summary>
    /// A write (store or delete) to a dead node probes it at once rather than waiting for the probe timer: a client that
    /// keeps failing its invalidations fast while other clients already use the returned node would let them read what it
    /// could not invalidate. When the node's last failure was fast (connection refused or reset: it is down, not hung),
    /// the write waits for that probe (a connect attempt) and goes ahead if the node is back; otherwise (it hung) the
    /// probe runs in the background and the write fails at once. Reads never wait: they fail fast.
    /// </summary>
    private async ValueTask<bool> ReviveForWriteAsync(IReadOnlyList<MetaCommand> commands, CancellationToken cancellationToken)
    {
        if (!commands.Any(c => c.Verb != "mg"))
        {
            return false;
        }

        var probe = StartProbe();
        if ((CacheProviderFailureReason)Volatile.Read(ref _lastProbeFailure) is CacheProviderFailureReason.ConnectionRefused or CacheProviderFailureReason.ConnectionFailed)
        {
            await probe.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return !IsDead;
    }

    /// <summary>Empties the node with <c>flush_all</c> (on a connection of its own); fails if the node does not answer.</summary>
    public Task FlushAsync() =>
        MemcachedConnection.FlushAllAsync(Address.Host, Address.Port, _options.ConnectTimeout, _options.OperationTimeout, _time);

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
            Volatile.Write(ref _lastProbeFailure, (int)exception.Reason);
            _probe = _time.CreateTimer(static state => _ = ((MemcachedNode)state!).StartProbe(), this, _options.DeadNodeProbeInterval, _options.DeadNodeProbeInterval);
        }

        Log.NodeDead(_logger, Name, failures, _options.DeadNodeProbeInterval, exception);
        StateChanged?.Invoke(this, exception.Reason);
    }

    /// <summary>Starts a probe, or returns the one in progress.</summary>
    private Task StartProbe()
    {
        lock (_stateLock)
        {
            return _probeInProgress ??= Task.Run(ProbeAsync);
        }
    }

    /// <summary>
    /// Connects afresh and checks the node answers. With <see cref="MemcachedReturningNodePolicy.Flush"/> (or
    /// <see cref="MemcachedCacheProviderOptions.RemapDeadNodes"/>) the node is first emptied with <c>flush_all</c>: while
    /// this client could not reach it, this client's invalidations of its keys were lost, so anything it holds may be
    /// stale (a paused or partitioned node keeps its entries; other clients may refill it meanwhile). The flush also
    /// revokes every lease on the node, so a fill that started before it stores nothing.
    /// </summary>
    private async Task ProbeAsync()
    {
        MemcachedConnection? fresh = null;
        try
        {
            long skipped;
            lock (_stateLock)
            {
                skipped = _writesSkipped;
            }

            if (EmptiedOnReturn)
            {
                await FlushAsync().ConfigureAwait(false);
            }

            fresh = await ConnectAsync(CancellationToken.None).ConfigureAwait(false);
            await fresh.Send(NoCommands, quiet: true, _options.OperationTimeout).ConfigureAwait(false);
            lock (_stateLock)
            {
                if (_disposed)
                {
                    return;
                }

                if (_writesSkipped != skipped)
                {
                    // A write was skipped while this flush was under way (it may have run before it): stay dead; the next
                    // probe empties the node again.
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
            StateChanged?.Invoke(this, null);
        }
        catch (MemcachedException ex)
        {
            // Still dead; the timer (or the next write) probes again.
            Volatile.Write(ref _lastProbeFailure, (int)ex.Reason);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Volatile.Write(ref _lastProbeFailure, (int)CacheProviderFailureReason.ConnectionFailed);
        }
        finally
        {
            fresh?.Dispose();
            lock (_stateLock)
            {
                _probeInProgress = null;
            }
        }
    }
}
