using System.Data.Common;
using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

public sealed partial class RoutingDataSource
{
    /// <summary>How long an operation waits for the first probe round when the configuration names no endpoint of the role it needs.</summary>
    private TimeSpan FirstRoundWait => _options.ProbeTimeout + _options.ProbeTimeout;

    /// <summary>
    /// Runs <paramref name="work"/> on a connection of the writer (<paramref name="onWriter"/>) or of a reader, and turns
    /// failures of the connection into a <see cref="RoutingException"/> that says whether a retry is safe. A read runs
    /// once more elsewhere when its connection broke, when a replica cancelled it for a recovery conflict, or when its
    /// endpoint was ejected (hung) while it waited; work on an ejected endpoint stops waiting for it.
    /// </summary>
    internal async ValueTask<T> RunAsync<T>(
        bool onWriter,
        ReadConsistency? consistency,
        Func<DbConnection, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        List<Endpoint>? failed = null;
        while (true)
        {
            var (connection, endpoint) = onWriter
                ? await OpenWriterAsync(cancellationToken).ConfigureAwait(false)
                : await OpenReaderAsync(consistency, failed, cancellationToken).ConfigureAwait(false);
            var ejected = endpoint.EjectedToken;
            Task<T> task;
            try
            {
                task = work(connection, cancellationToken);
            }
#pragma warning disable CA1031 // A synchronous failure is handled as the task's.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                task = Task.FromException<T>(ex);
            }

            Exception failure;
            try
            {
                var result = await task.WaitAsync(ejected).ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return result;
            }
            catch (OperationCanceledException) when (ejected.IsCancellationRequested && !task.IsCompleted)
            {
                // The endpoint stopped answering and was ejected: stop waiting; the connection is closed when the driver lets go.
                DisposeWhenDone(task, connection);
                failure = new TimeoutException($"{endpoint.Name} stopped answering and was ejected while the statement was in flight.", endpoint.LastError);
                if (!onWriter && failed is null && !cancellationToken.IsCancellationRequested)
                {
                    failed = [endpoint];
                    continue;
                }

                throw new RoutingException(
                    onWriter
                        ? $"{endpoint.Name} stopped answering while a write was in flight and was ejected; it may or may not have been applied."
                        : $"{endpoint.Name} stopped answering and was ejected; the read was not answered.",
                    onWriter ? RetrySafety.Unknown : RetrySafety.Safe,
                    endpoint.Name,
                    failure);
            }
            catch (Exception ex)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                failure = ex;
            }

            var kind = _engine.Classify(failure);
            var onReplica = endpoint.LastStatus is { IsPrimary: false };
            var retryRead = !onWriter && failed is null && !cancellationToken.IsCancellationRequested
                && (kind == RoutingFailure.Connection || (kind == RoutingFailure.RecoveryConflict && onReplica));
            if (retryRead)
            {
                // A read is safe to run again: once, elsewhere (another replica, or the writer).
                if (kind == RoutingFailure.Connection)
                {
                    endpoint.ClearPool();
                    RequestProbe();
                }
                else
                {
                    _telemetry.RecoveryConflicts.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint.Name));
                }

                failed = [endpoint];
                continue;
            }

            if (kind is RoutingFailure.ReadOnly or RoutingFailure.Connection)
            {
                throw Translate(failure, endpoint, routedAsWrite: onWriter, mayHaveWritten: onWriter);
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction on the writer and commits it. A connection failure before the commit is
    /// safe to retry (the server rolls the transaction back); a failure during the commit is not known to be.
    /// </summary>
    internal async ValueTask<T> RunInTransactionAsync<T>(
        System.Data.IsolationLevel isolationLevel,
        Func<DbConnection, DbTransaction, CancellationToken, ValueTask<T>> work,
        CancellationToken cancellationToken)
    {
        var (connection, endpoint) = await OpenWriterAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            DbTransaction transaction;
            try
            {
                transaction = await connection.BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRoutingFailure(ex))
            {
                throw Translate(ex, endpoint, routedAsWrite: true, mayHaveWritten: false);
            }

            await using (transaction.ConfigureAwait(false))
            {
                T result;
                try
                {
                    result = await work(connection, transaction, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRoutingFailure(ex))
                {
                    throw Translate(ex, endpoint, routedAsWrite: true, mayHaveWritten: false);
                }

                try
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRoutingFailure(ex))
                {
                    throw Translate(ex, endpoint, routedAsWrite: true, mayHaveWritten: true);
                }

                return result;
            }
        }
    }

    /// <summary>Reads from the writer because the statement takes row locks (the Dapper helpers detect <c>FOR UPDATE</c>/<c>FOR SHARE</c>).</summary>
    internal void CountLockingRead() => _telemetry.WriterFallbacks.Add(1, new KeyValuePair<string, object?>("reason", "locking"));

    internal async ValueTask<(DbConnection Connection, Endpoint Endpoint)> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var topology = await TopologyWithAsync(static t => t.Writer is not null, cancellationToken).ConfigureAwait(false);
        var writer = topology.Writer ?? throw NoWriter();
        var connection = CreateTracked(writer, writer.DataSource, isWriter: true);
        await OpenOrThrowAsync(connection, writer, cancellationToken).ConfigureAwait(false);
        _telemetry.Connections.Add(1, new KeyValuePair<string, object?>("endpoint", writer.Name), new KeyValuePair<string, object?>("role", "writer"));
        return (connection, writer);
    }

    internal async ValueTask<(DbConnection Connection, Endpoint Endpoint)> OpenReaderAsync(ReadConsistency? consistency, List<Endpoint>? failed, CancellationToken cancellationToken)
    {
        var level = consistency ?? _scope.Value?.Consistency ?? _options.DefaultConsistency;
        var topology = await TopologyWithAsync(static t => t.Writer is not null || t.Readers.Length > 0, cancellationToken).ConfigureAwait(false);
        if (level == ReadConsistency.Strong)
        {
            _telemetry.WriterFallbacks.Add(1, new KeyValuePair<string, object?>("reason", "strong"));
            return await OpenReadOnWriterAsync(topology, cancellationToken).ConfigureAwait(false);
        }

        var required = await RequiredPositionAsync(level, topology, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var reader = required.Unknown ? null : PickReader(topology, required, failed);
            if (reader is null && required.Any && !required.Unknown && _options.ReadYourWritesWait > TimeSpan.Zero && _engine.CanWaitForPosition
                && await OpenReaderThatWaitsAsync(topology, required, failed, cancellationToken).ConfigureAwait(false) is { } waited)
            {
                return waited;
            }

            if (reader is null)
            {
                if (!required.Any && !_options.FallbackToWriter)
                {
                    throw new RoutingException("No healthy replica within the lag bound can take the read, and FallbackToWriter is off; nothing was sent.", RetrySafety.Safe, endpoint: null, innerException: null);
                }

                _telemetry.WriterFallbacks.Add(1, new KeyValuePair<string, object?>("reason", required.Any ? "position" : "no_replica"));
                return await OpenReadOnWriterAsync(topology, cancellationToken).ConfigureAwait(false);
            }

            var connection = CreateTracked(reader, reader.ReadDataSource, isWriter: false);
            try
            {
                await OpenOrThrowAsync(connection, reader, cancellationToken).ConfigureAwait(false);
                _telemetry.Connections.Add(1, new KeyValuePair<string, object?>("endpoint", reader.Name), new KeyValuePair<string, object?>("role", "reader"));
                return (connection, reader);
            }
            catch (RoutingException)
            {
                // A replica that does not answer: try the others (then the writer) before its probes eject it.
                (failed ??= []).Add(reader);
            }
        }
    }

    /// <summary>
    /// An unopened reader connection, chosen with what is known without I/O: a read that needs a write position not
    /// resolved yet goes to the writer. Used by the synchronous <see cref="DbDataSource.CreateConnection"/> of <see cref="Readers"/>.
    /// </summary>
    internal DbConnection CreateReaderConnection()
    {
        var topology = CurrentTopology();
        var level = _scope.Value?.Consistency ?? _options.DefaultConsistency;
        var scope = level == ReadConsistency.ReadYourWrites ? _scope.Value : null;
        var needsProcessMark = (_options.FillAwareRouting && CacheFillContext.IsActive) || (level == ReadConsistency.ReadYourWrites && scope is null);
        var unresolved = level == ReadConsistency.Strong || scope?.Writes.IsPending == true || (needsProcessMark && _processWrites.IsPending);
        var required = new RequiredPosition(scope?.Writes.Position, needsProcessMark ? _processWrites.Position : null, Unknown: unresolved);
        var reader = unresolved ? null : PickReader(topology, required, failed: null);
        if (reader is null && !required.Any && !unresolved && !_options.FallbackToWriter)
        {
            throw new RoutingException("No healthy replica within the lag bound can take the read, and FallbackToWriter is off; nothing was sent.", RetrySafety.Safe, endpoint: null, innerException: null);
        }

        var endpoint = reader ?? topology.Writer ?? throw NoWriter();
        return CreateTracked(endpoint, endpoint.ReadDataSource, isWriter: false);
    }

    /// <summary>
    /// The positions a read must see: the scope's writes for read-your-writes, every write of this process for a read under
    /// a cache fill (or a read-your-writes read outside any scope). Pending writes are resolved with one query of the
    /// primary's current position, shared by concurrent reads; if that fails, the position is unknown and the read goes to
    /// the writer.
    /// </summary>
    private async ValueTask<RequiredPosition> RequiredPositionAsync(ReadConsistency level, Topology topology, CancellationToken cancellationToken)
    {
        var scope = level == ReadConsistency.ReadYourWrites ? _scope.Value : null;
        var needsProcessMark = (_options.FillAwareRouting && CacheFillContext.IsActive) || (level == ReadConsistency.ReadYourWrites && scope is null);
        if (scope is null && !needsProcessMark)
        {
            return default;
        }

        // The scope's writes are also the process's: a process mark read after the scope's count covers them.
        ReplicationPosition? scopeMark = null;
        if (scope is not null)
        {
            scopeMark = await scope.Writes.ResolveAsync(() => ResolveProcessMarkAsync(topology), cancellationToken).ConfigureAwait(false) ?? scope.Writes.Position;
            if (scopeMark is null && scope.Writes.IsPending)
            {
                return new RequiredPosition(null, null, Unknown: true);
            }
        }

        ReplicationPosition? processMark = null;
        if (needsProcessMark)
        {
            processMark = await ResolveProcessMarkAsync(topology).WaitAsync(cancellationToken).ConfigureAwait(false) ?? _processWrites.Position;
            if (processMark is null && _processWrites.IsPending)
            {
                return new RequiredPosition(null, null, Unknown: true);
            }
        }

        return new RequiredPosition(scopeMark, processMark, Unknown: false);
    }

    /// <summary>The process-wide mark covering every write counted before the call (one shared query of the writer when writes are pending); <see langword="null"/> when it could not be read.</summary>
    private Task<ReplicationPosition?> ResolveProcessMarkAsync(Topology topology) =>
        _processWrites.ResolveAsync(() => ReadWritePositionAsync(topology), CancellationToken.None).AsTask();

    private async Task<ReplicationPosition?> ReadWritePositionAsync(Topology topology)
    {
        if (topology.Writer is not { } writer)
        {
            return null;
        }

        try
        {
            return await _probe.GetWritePositionAsync(writer.DataSource, CancellationToken.None).AsTask()
                .WaitAsync(_options.ProbeTimeout, _time, writer.EjectedToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Without the position, the read goes to the writer: always safe.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.WritePositionFailed(_logger, writer.Name, ex);
            return null;
        }
    }

    /// <summary>
    /// A connection to a receiving replica that was behind the required position at its last probe and has applied it
    /// within <see cref="RoutingOptions.ReadYourWritesWait"/> (the engine waits on the replica itself), or
    /// <see langword="null"/> (the read then goes to the writer). Replicas on another history are never tried.
    /// </summary>
    private async ValueTask<(DbConnection, Endpoint)?> OpenReaderThatWaitsAsync(Topology topology, RequiredPosition required, List<Endpoint>? failed, CancellationToken cancellationToken)
    {
        var candidates = topology.Readers.Where(r => failed?.Contains(r) != true && r.LastStatus is { IsReceiving: true } status
            && new[] { required.Scope, required.Process }.All(mark => mark is null || status.Position.CompareTo(mark) != ReplicationPositionComparison.NotComparable)).ToArray();
        if (_selector.Pick(candidates, ReaderSelector.TotalWeight(candidates)) is not { } reader)
        {
            return null;
        }

        var connection = CreateTracked(reader, reader.ReadDataSource, isWriter: false);
        try
        {
            await OpenOrThrowAsync(connection, reader, cancellationToken).ConfigureAwait(false);
            foreach (var mark in new[] { required.Scope, required.Process })
            {
                if (mark is not null && !await _engine.WaitForPositionAsync(connection, mark, _options.ReadYourWritesWait, cancellationToken).ConfigureAwait(false))
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is RoutingException || _engine.Classify(ex) == RoutingFailure.Connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        _telemetry.Connections.Add(1, new KeyValuePair<string, object?>("endpoint", reader.Name), new KeyValuePair<string, object?>("role", "reader"));
        return (connection, reader);
    }

    private Endpoint? PickReader(Topology topology, RequiredPosition required, List<Endpoint>? failed)
    {
        var readers = topology.Readers;
        if (!required.Any && failed is null)
        {
            return _selector.Pick(readers, topology.TotalReaderWeight);
        }

        var eligible = new Endpoint[readers.Length];
        var count = 0;
        foreach (var reader in readers)
        {
            if (failed?.Contains(reader) != true && required.IsMetBy(reader.LastStatus?.Position))
            {
                eligible[count++] = reader;
            }
        }

        var span = eligible.AsSpan(0, count);
        return _selector.Pick(span, ReaderSelector.TotalWeight(span));
    }

    private async ValueTask<(DbConnection, Endpoint)> OpenReadOnWriterAsync(Topology topology, CancellationToken cancellationToken)
    {
        var writer = topology.Writer ?? throw NoWriter();
        var connection = CreateTracked(writer, writer.ReadDataSource, isWriter: false);
        await OpenOrThrowAsync(connection, writer, cancellationToken).ConfigureAwait(false);
        _telemetry.Connections.Add(1, new KeyValuePair<string, object?>("endpoint", writer.Name), new KeyValuePair<string, object?>("role", "reader"));
        return (connection, writer);
    }

    /// <summary>Opens <paramref name="connection"/>, bounded by the endpoint's ejection (a hung server's open is abandoned once its probe times out).</summary>
    private async ValueTask OpenOrThrowAsync(DbConnection connection, Endpoint endpoint, CancellationToken cancellationToken)
    {
        var ejected = endpoint.EjectedToken;
        var open = connection.OpenAsync(cancellationToken);
        try
        {
            await open.WaitAsync(ejected).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ejected.IsCancellationRequested && !open.IsCompleted)
        {
            DisposeWhenDone(open, connection);
            throw new RoutingException($"Could not connect to {endpoint.Name}: it stopped answering and was ejected; nothing was sent.", RetrySafety.Safe, endpoint.Name, endpoint.LastError);
        }
        catch (Exception ex) when (_engine.Classify(ex) is RoutingFailure.Connection or RoutingFailure.Authentication)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            RequestProbe();
            throw new RoutingException($"Could not connect to {endpoint.Name}: {Describe(ex)}; nothing was sent.", RetrySafety.Safe, endpoint.Name, ex);
        }
    }

    /// <summary>
    /// What an operation the router stopped waiting for holds (its connection, its driver's token source) is disposed when the
    /// driver lets the operation go; its failure, whenever it comes, is observed and dropped.
    /// </summary>
    private static void DisposeWhenDone(Task operation, IDisposable held) =>
        operation.ContinueWith(
            static (t, state) =>
            {
                _ = t.Exception;
                ((IDisposable)state!).Dispose();
            },
            held,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    /// <summary>The current topology, rebuilt first when a replica's lag has passed the bound since it was built.</summary>
    private Topology CurrentTopology()
    {
        var topology = Volatile.Read(ref _topology);
        if (topology.RecheckAt != long.MaxValue && _time.GetTimestamp() >= topology.RecheckAt)
        {
            lock (_applyGate)
            {
                topology = RebuildTopology();
            }
        }

        return topology;
    }

    /// <summary>
    /// Before the first probe round, an operation that needs a role the configuration does not name waits for the round
    /// (bounded): an unreachable database then fails the operation, never the start-up.
    /// </summary>
    private async ValueTask<Topology> TopologyWithAsync(Func<Topology, bool> usable, CancellationToken cancellationToken)
    {
        var topology = CurrentTopology();
        if (usable(topology) || _firstRound.Task.IsCompleted)
        {
            return topology;
        }

        try
        {
            await _firstRound.Task.WaitAsync(FirstRoundWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Use what is known; the caller reports the missing role.
        }

        return CurrentTopology();
    }

    private bool IsRoutingFailure(Exception exception) => _engine.Classify(exception) is RoutingFailure.ReadOnly or RoutingFailure.Connection;

    private Exception Translate(Exception exception, Endpoint endpoint, bool routedAsWrite, bool mayHaveWritten)
    {
        RequestProbe();
        var kind = _engine.Classify(exception);
        if (kind == RoutingFailure.Connection)
        {
            endpoint.ClearPool();
        }

        if (kind == RoutingFailure.ReadOnly)
        {
            if (!routedAsWrite)
            {
                return new InvalidOperationException(
                    $"The statement tried to write through a read (on {endpoint.Name}, in a read-only session) and was refused; nothing was written. Reads are refused writes on every endpoint, the writer included: send writes through the writer (ExecuteAsync, InTransactionAsync, OpenWriterConnectionAsync).",
                    exception);
            }

            Log.WriterReadOnly(_logger, endpoint.Name);
            return new RoutingException($"The writer {endpoint.Name} refused the write as read-only (it is no longer the primary); nothing was written.", RetrySafety.Safe, endpoint.Name, exception);
        }

        return mayHaveWritten
            ? new RoutingException($"The connection to {endpoint.Name} failed while a write or commit was in flight ({Describe(exception)}); it may or may not have been applied.", RetrySafety.Unknown, endpoint.Name, exception)
            : new RoutingException($"The connection to {endpoint.Name} failed ({Describe(exception)}); nothing was committed.", RetrySafety.Safe, endpoint.Name, exception);
    }
}
