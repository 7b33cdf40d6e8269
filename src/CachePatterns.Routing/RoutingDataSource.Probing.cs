using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

public sealed partial class RoutingDataSource
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _roundGate = new(1, 1);
    private readonly Task? _probeLoop;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Endpoint? _lastWriter;
    private bool _lastWriterLost;

    /// <summary>
    /// Probes every endpoint now and applies what the probes found (role changes, ejections, readmissions, lag) before
    /// returning. The router also does this every <see cref="RoutingOptions.ProbeInterval"/> on its own.
    /// </summary>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>A task that completes when the round is applied.</returns>
    public async ValueTask RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _roundGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var results = await Task.WhenAll(_endpoints.Select(e => ProbeOneAsync(e, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < _endpoints.Length; i++)
            {
                Apply(_endpoints[i], results[i]);
            }

            Volatile.Write(ref _topology, BuildTopology(_lastWriter));
            OnWriterResolved(_topology.Writer);
        }
        finally
        {
            _roundGate.Release();
        }
    }

    /// <summary>Asks the probe loop to run a round now (a connection failed, or the writer refused a write).</summary>
    private void RequestProbe() => Volatile.Read(ref _wake).TrySetResult();

    private async Task ProbeLoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            try
            {
                await RefreshAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must survive any failure of one round; the next round retries.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ProbeFailed(_logger, "(round)", ex);
            }

            _firstRound.TrySetResult();
            try
            {
                await Task.WhenAny(Task.Delay(_options.ProbeInterval, _time, stopping), wake.Task).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (wake.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);

                // Failing requests wake the loop early; a short pause keeps a burst of them from probing back to back.
                try
                {
                    await Task.Delay(_options.ProbeInterval / 10, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<(ReplicationStatus? Status, Exception? Error)> ProbeOneAsync(Endpoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ProbeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            return (await _probe.ProbeAsync(endpoint.ProbeDataSource, linked.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure of a probe counts against the endpoint's health.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (null, ex);
        }
    }

    private void Apply(Endpoint endpoint, (ReplicationStatus? Status, Exception? Error) result)
    {
        if (result.Status is { } status)
        {
            endpoint.LastStatus = status;
            endpoint.ConsecutiveFailures = 0;
            if (endpoint.IsEjected)
            {
                endpoint.IsEjected = false;
                Log.Readmitted(_logger, endpoint.Name);
            }

            return;
        }

        endpoint.ConsecutiveFailures++;
        Log.ProbeFailed(_logger, endpoint.Name, result.Error!);
        if (!endpoint.IsEjected && endpoint.ConsecutiveFailures >= _options.FailuresBeforeEjection)
        {
            endpoint.IsEjected = true;
            _telemetry.Ejections.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint.Name));
            Log.Ejected(_logger, endpoint.Name, endpoint.ConsecutiveFailures, result.Error);
        }
    }

    /// <summary>
    /// The writer: the current one while it is a healthy primary (so a returning old primary does not take writes back),
    /// else the healthy primary configured as writer or furthest ahead. Before any probe answered, the configured roles.
    /// Readers: healthy replicas within the lag bounds.
    /// </summary>
    private Topology BuildTopology(Endpoint? previousWriter)
    {
        Endpoint? writer = null;
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.IsEjected || !IsPrimary(endpoint))
            {
                continue;
            }

            if (ReferenceEquals(endpoint, previousWriter))
            {
                writer = endpoint;
                break;
            }

            if (writer is null || Rank(endpoint).CompareTo(Rank(writer)) > 0)
            {
                writer = endpoint;
            }
        }

        var primaryPosition = writer?.LastStatus?.Position ?? 0;
        var readers = new List<Endpoint>();
        foreach (var endpoint in _endpoints)
        {
            if (!endpoint.IsEjected && !ReferenceEquals(endpoint, writer) && IsReplica(endpoint) && WithinLagBounds(endpoint, primaryPosition))
            {
                readers.Add(endpoint);
            }
        }

        Endpoint[] readerArray = [.. readers];
        return new Topology(writer, readerArray, ReaderSelector.TotalWeight(readerArray), primaryPosition);

        static bool IsPrimary(Endpoint e) => e.LastStatus is { } s ? s.IsPrimary : e.Options.Role == EndpointRole.Writer;

        static bool IsReplica(Endpoint e) => e.LastStatus is { } s ? !s.IsPrimary : e.Options.Role == EndpointRole.Reader;

        static (int, ulong) Rank(Endpoint e) => (e.Options.Role == EndpointRole.Writer ? 1 : 0, e.LastStatus?.Position ?? 0);
    }

    private bool WithinLagBounds(Endpoint endpoint, ulong primaryPosition)
    {
        if (endpoint.LastStatus is not { } status)
        {
            return true;
        }

        if (_options.MaxReplicaLag is { } maxLag && status.ReplayLag > maxLag)
        {
            return false;
        }

        return _options.MaxReplicaLagBytes is not { } maxBytes
            || primaryPosition <= status.Position
            || primaryPosition - status.Position <= (ulong)maxBytes;
    }

    /// <summary>When the writer moved, drops the old writer's pooled connections so nothing keeps writing to a node that is gone or read-only.</summary>
    private void OnWriterResolved(Endpoint? writer)
    {
        if (writer is null)
        {
            if (_lastWriter is not null && !_lastWriterLost)
            {
                _lastWriterLost = true;
                Log.NoWriter(_logger);
            }

            return;
        }

        _lastWriterLost = false;
        if (ReferenceEquals(writer, _lastWriter))
        {
            return;
        }

        var old = _lastWriter;
        _lastWriter = writer;
        if (old is null)
        {
            Log.WriterFound(_logger, writer.Name);
            return;
        }

        _telemetry.WriterChanges.Add(1);
        Log.WriterChanged(_logger, old.Name, writer.Name);
        old.ClearPool();
    }
}
