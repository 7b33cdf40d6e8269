using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

public sealed partial class RoutingDataSource
{
    /// <summary>
    /// How early a timer may fire against <see cref="TimeProvider.GetTimestamp"/>: timers run on a coarse tick (1 ms on Linux,
    /// 15.6 ms on Windows), so a driver's timeout of exactly the probe timeout can end a probe a little before it.
    /// </summary>
    private static readonly TimeSpan TimerTick = TimeSpan.FromMilliseconds(16);

    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _applyGate = new();
    private readonly WriterHistory _writerHistory = new();
    private Task? _probeLoops;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Endpoint? _lastWriter;
    private Endpoint? _historyOwner;
    private bool _lastWriterLost;

    /// <summary>
    /// Probes every endpoint now and applies what each probe found (role changes, ejections, readmissions, lag) as it
    /// answers, before returning. Each probe is bounded by <see cref="RoutingOptions.ProbeTimeout"/>, so this returns within
    /// about that long even when a server hangs. The router also probes every <see cref="RoutingOptions.ProbeInterval"/> on its own.
    /// </summary>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>A task that completes when every endpoint's probe is applied.</returns>
    public async ValueTask RefreshAsync(CancellationToken cancellationToken = default) =>
        await Task.WhenAll(_endpoints.Select(e => ProbeAndApplyAsync(e, cancellationToken))).ConfigureAwait(false);

    /// <summary>Asks every endpoint's probe loop to probe now (a connection failed, or the writer refused a write).</summary>
    private void RequestProbe() => Volatile.Read(ref _wake).TrySetResult();

    private Task StartProbeLoops() => Task.WhenAll(_endpoints.Select(e => Task.Run(() => ProbeLoopAsync(e))));

    /// <summary>
    /// One loop per endpoint, so a server that hangs delays nobody else's probes: every interval, or at once when woken
    /// (after a pause of a tenth of the interval, so a burst of failures does not probe back to back).
    /// </summary>
    private async Task ProbeLoopAsync(Endpoint endpoint)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            try
            {
                await ProbeAndApplyAsync(endpoint, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must survive any failure of one probe; the next one retries.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ProbeFailed(_logger, endpoint.Name, ex);
            }

            try
            {
                await Task.WhenAny(Task.Delay(_options.ProbeInterval, _time, stopping), wake.Task).ConfigureAwait(false);
                if (wake.Task.IsCompleted)
                {
                    Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
                    await Task.Delay(_options.ProbeInterval / 10, _time, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Probes one endpoint, bounded by <see cref="RoutingOptions.ProbeTimeout"/> whatever the driver does with the token
    /// (Npgsql does not abandon a read from a server that stopped answering), and applies the answer at once.
    /// </summary>
    /// <remarks>
    /// The driver's token is cancelled only once the router has stopped waiting, and never on the thread that ends the wait:
    /// Npgsql and MySqlConnector cancel a command inside the token's callback by connecting to the server again,
    /// synchronously, which against a hung server blocks for up to twice the connect timeout. Cancelled from the probe
    /// timeout's own timer (as before), that callback held up the timer that ends the wait: ejections came 4 s late
    /// (docs/routing.md, "Hung endpoints").
    /// </remarks>
    private async Task ProbeAndApplyAsync(Endpoint endpoint, CancellationToken cancellationToken)
    {
        await endpoint.ProbeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReplicationStatus? status = null;
            Exception? error = null;
            var hung = false;
            var started = _time.GetTimestamp();
            var driver = new CancellationTokenSource();
            Task<ReplicationStatus> probe;
            try
            {
                probe = _probe.ProbeAsync(endpoint.ProbeDataSource, driver.Token).AsTask();
            }
#pragma warning disable CA1031 // Any failure of a probe counts against the endpoint's health.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                probe = Task.FromException<ReplicationStatus>(ex);
            }

            try
            {
                status = await probe.WaitAsync(_options.ProbeTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any failure of a probe counts against the endpoint's health.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Hung: no answer within the bound, or the driver's own timeout (the bound rounded up to whole seconds) ended
                // the probe at about the same moment. Either way the server took the whole bound without answering.
                hung = !probe.IsCompleted || _time.GetElapsedTime(started) >= _options.ProbeTimeout - TimerTick;
                error = hung
                    ? new TimeoutException($"no answer to its probe within the probe timeout ({_options.ProbeTimeout.TotalMilliseconds:0} ms): hung or unreachable", ex is TimeoutException ? null : ex)
                    : ex;
            }
            finally
            {
                if (probe.IsCompleted)
                {
                    driver.Dispose();
                }
                else
                {
                    Abandon(probe, driver);
                }
            }

            _telemetry.ProbeDuration.Record(
                _time.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("endpoint", endpoint.Name),
                new KeyValuePair<string, object?>("outcome", status is not null ? "answered" : hung ? "hung" : "failed"));
            lock (_applyGate)
            {
                Apply(endpoint, status, error, hung);
                RebuildTopology();
            }

            if (Array.TrueForAll(_endpoints, e => e.Probed))
            {
                _firstRound.TrySetResult();
            }
        }
        finally
        {
            endpoint.ProbeGate.Release();
        }
    }

    /// <summary>
    /// A probe the router stopped waiting for: its driver is told to give up on a thread-pool thread (the driver's cancellation
    /// may block, see <see cref="ProbeAndApplyAsync"/>); the token source is disposed once both are done.
    /// </summary>
    private static void Abandon(Task probe, CancellationTokenSource driver) =>
        DisposeWhenDone(Task.WhenAll(probe, driver.CancelAsync()), driver);

    /// <summary>
    /// Applies one probe's outcome. A probe that timed out ejects at once: a hung server stalls every caller that reaches it,
    /// so it must get no work within <see cref="RoutingOptions.ProbeTimeout"/> + <see cref="RoutingOptions.ProbeInterval"/>.
    /// A probe that fails fast (refused, reset, bad credentials) counts towards <see cref="RoutingOptions.FailuresBeforeEjection"/>.
    /// </summary>
    private void Apply(Endpoint endpoint, ReplicationStatus? status, Exception? error, bool hung)
    {
        endpoint.Probed = true;
        if (status is { } answer)
        {
            endpoint.LastStatus = answer;
            endpoint.LastAnswered = _time.GetTimestamp();
            endpoint.LastError = null;
            endpoint.ConsecutiveFailures = 0;
            if (endpoint.IsEjected)
            {
                endpoint.Readmit();
                Log.Readmitted(_logger, endpoint.Name);
            }

            return;
        }

        endpoint.ConsecutiveFailures++;
        endpoint.LastError = error;
        Log.ProbeFailed(_logger, endpoint.Name, error!);
        if (!endpoint.IsEjected && (hung || endpoint.ConsecutiveFailures >= _options.FailuresBeforeEjection))
        {
            endpoint.Eject();
            _telemetry.Ejections.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint.Name));
            Log.Ejected(_logger, endpoint.Name, endpoint.ConsecutiveFailures, error);
        }
    }

    /// <summary>Rebuilds the topology from what the probes found, and reacts to a moved writer. Called under <see cref="_applyGate"/>.</summary>
    private Topology RebuildTopology()
    {
        var topology = BuildTopology(_lastWriter);
        Volatile.Write(ref _topology, topology);
        OnWriterResolved(topology.Writer);
        return topology;
    }

    /// <summary>
    /// The writer: the current one while it is a healthy primary (so a returning old primary does not take writes back),
    /// else the healthy primary configured as writer or furthest ahead. Before any probe answered, the configured roles.
    /// Readers: healthy replicas on the writer's history (never one on another timeline) and within the lag bounds.
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

            if (writer is null || Outranks(endpoint, writer))
            {
                writer = endpoint;
            }
        }

        var now = _time.GetTimestamp();
        if (writer is not null && !ReferenceEquals(writer, _historyOwner))
        {
            _writerHistory.Clear();
            _historyOwner = writer;
        }

        if (writer?.LastStatus is { IsPrimary: true } writerStatus)
        {
            _writerHistory.Record(writer.LastAnswered, writerStatus.Position);
        }

        var maxLagTicks = _options.MaxReplicaLag is { } maxLag ? (long)(maxLag.TotalSeconds * _time.TimestampFrequency) : (long?)null;
        // Without a time bound only the latest position is needed (timelines, byte distance).
        _writerHistory.Trim(maxLagTicks is { } keep
            ? now - keep - (long)((_options.ProbeInterval + _options.ProbeTimeout).TotalSeconds * _time.TimestampFrequency)
            : now);

        var writerPosition = _writerHistory.Latest;
        var recheckAt = long.MaxValue;
        var readers = new List<Endpoint>();
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.IsEjected || ReferenceEquals(endpoint, writer) || !IsReplica(endpoint))
            {
                continue;
            }

            if (endpoint.LastStatus is { } status)
            {
                if (writerPosition is not null && status.Position.CompareTo(writerPosition) == ReplicationPositionComparison.NotComparable)
                {
                    continue; // on another history than the writer's (a lost timeline): never caught up
                }

                if (maxLagTicks is { } bound)
                {
                    if (status.IsReceiving && status.ReplayLag > _options.MaxReplicaLag)
                    {
                        continue;
                    }

                    if (_writerHistory.BehindSince(status.Position) is { } since)
                    {
                        var deadline = since + bound;
                        if (now >= deadline)
                        {
                            continue; // lacks a position the writer had longer than the bound ago: received or not, it is that far behind
                        }

                        recheckAt = Math.Min(recheckAt, deadline);
                    }
                }

                if (_options.MaxReplicaLagBytes is { } maxBytes && writerPosition is not null && status.Position.DistanceBehind(writerPosition) > maxBytes)
                {
                    continue;
                }
            }

            readers.Add(endpoint);
        }

        Endpoint[] readerArray = [.. readers];
        return new Topology(writer, readerArray, ReaderSelector.TotalWeight(readerArray), writerPosition, recheckAt);

        static bool IsPrimary(Endpoint e) => e.LastStatus is { } s ? s.IsPrimary : e.Options.Role == EndpointRole.Writer;

        static bool IsReplica(Endpoint e) => e.LastStatus is { } s ? !s.IsPrimary : e.Options.Role == EndpointRole.Reader;

        static bool Outranks(Endpoint candidate, Endpoint current)
        {
            var (a, b) = (candidate.Options.Role == EndpointRole.Writer, current.Options.Role == EndpointRole.Writer);
            if (a != b)
            {
                return a;
            }

            return candidate.LastStatus is { } mine && current.LastStatus is { } theirs
                && mine.Position.CompareTo(theirs.Position) == ReplicationPositionComparison.AtLeast
                && theirs.Position.CompareTo(mine.Position) != ReplicationPositionComparison.AtLeast;
        }
    }

    /// <summary>
    /// When the writer moved, drops the old writer's pooled connections so nothing keeps writing to a node that is gone or
    /// read-only, and has the next read that needs the process-wide mark read the new writer's position (the old mark is on
    /// the old history: comparing replicas with it would send every fill to the writer).
    /// </summary>
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
        _processWrites.MarkWrite();
        old.ClearPool();
    }
}
