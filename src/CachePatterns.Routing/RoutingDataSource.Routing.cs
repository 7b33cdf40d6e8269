using System.Data.Common;
using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing;

public sealed partial class RoutingDataSource
{
    /// <summary>How long an operation waits for the first probe round when the configuration names no endpoint of the role it needs.</summary>
    private TimeSpan FirstRoundWait => _options.ProbeTimeout + _options.ProbeTimeout;

    /// <summary>
    /// Runs <paramref name="work"/> on a connection of the writer (<paramref name="onWriter"/>) or of a reader, and turns
    /// failures of the connection into a <see cref="RoutingException"/> that says whether a retry is safe.
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
            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    return await work(connection, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (RoutingErrors.IsConnectionFailure(ex) && !onWriter && failed is null && !cancellationToken.IsCancellationRequested)
                {
                    // A read is safe to run again: once, elsewhere (another replica, or the writer).
                    endpoint.ClearPool();
                    RequestProbe();
                    failed = [endpoint];
                }
                catch (Exception ex) when (RoutingErrors.IsReadOnlyViolation(ex) || RoutingErrors.IsConnectionFailure(ex))
                {
                    throw Translate(ex, endpoint, routedAsWrite: onWriter, mayHaveWritten: onWriter);
                }
            }
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
            catch (Exception ex) when (RoutingErrors.IsReadOnlyViolation(ex) || RoutingErrors.IsConnectionFailure(ex))
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
                catch (Exception ex) when (RoutingErrors.IsReadOnlyViolation(ex) || RoutingErrors.IsConnectionFailure(ex))
                {
                    throw Translate(ex, endpoint, routedAsWrite: true, mayHaveWritten: false);
                }

                try
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (RoutingErrors.IsReadOnlyViolation(ex) || RoutingErrors.IsConnectionFailure(ex))
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
        var connection = CreateTracked(writer, isWriter: true);
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
            var reader = PickReader(topology, required, failed);
            if (reader is null)
            {
                if (required == 0 && !_options.FallbackToWriter)
                {
                    throw new RoutingException("No healthy replica within the lag bound can take the read, and FallbackToWriter is off; nothing was sent.", RetrySafety.Safe, endpoint: null, innerException: null);
                }

                _telemetry.WriterFallbacks.Add(1, new KeyValuePair<string, object?>("reason", required == 0 ? "no_replica" : "position"));
                return await OpenReadOnWriterAsync(topology, cancellationToken).ConfigureAwait(false);
            }

            var connection = CreateTracked(reader, isWriter: false);
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
        var topology = Volatile.Read(ref _topology);
        var level = _scope.Value?.Consistency ?? _options.DefaultConsistency;
        var scope = level == ReadConsistency.ReadYourWrites ? _scope.Value : null;
        var needsProcessMark = (_options.FillAwareRouting && CacheFillContext.IsActive) || (level == ReadConsistency.ReadYourWrites && scope is null);
        var unresolved = level == ReadConsistency.Strong || scope?.Writes.IsPending == true || (needsProcessMark && _processWrites.IsPending);
        var required = Math.Max(scope?.Writes.Position ?? 0, needsProcessMark ? _processWrites.Position : 0);
        var reader = unresolved ? null : PickReader(topology, required, failed: null);
        if (reader is null && required == 0 && !unresolved && !_options.FallbackToWriter)
        {
            throw new RoutingException("No healthy replica within the lag bound can take the read, and FallbackToWriter is off; nothing was sent.", RetrySafety.Safe, endpoint: null, innerException: null);
        }

        var endpoint = reader ?? topology.Writer ?? throw NoWriter();
        return CreateTracked(endpoint, isWriter: false);
    }

    /// <summary>
    /// The primary position a read must see: the scope's writes for read-your-writes, every write of this process for a
    /// read under a cache fill (or a read-your-writes read outside any scope). Pending writes are resolved with one query
    /// of the primary's current position; if that fails, no replica qualifies and the read goes to the writer.
    /// </summary>
    private async ValueTask<ulong> RequiredPositionAsync(ReadConsistency level, Topology topology, CancellationToken cancellationToken)
    {
        var scope = level == ReadConsistency.ReadYourWrites ? _scope.Value : null;
        var needsProcessMark = (_options.FillAwareRouting && CacheFillContext.IsActive) || (level == ReadConsistency.ReadYourWrites && scope is null);
        if (scope is null && !needsProcessMark)
        {
            return 0;
        }

        var scopePending = scope?.Writes.TakePending() ?? false;
        var processPending = needsProcessMark && _processWrites.TakePending();
        if (scopePending || processPending)
        {
            ulong position;
            try
            {
                if (topology.Writer is not { } writer)
                {
                    throw NoWriter();
                }

                position = await _probe.GetWritePositionAsync(writer.DataSource, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                if (scopePending)
                {
                    scope!.Writes.MarkPending();
                }

                if (processPending)
                {
                    _processWrites.MarkPending();
                }

                return ulong.MaxValue;
            }

            scope?.Writes.Advance(position);
            _processWrites.Advance(position);
        }

        var required = scope?.Writes.Position ?? 0;
        return needsProcessMark ? Math.Max(required, _processWrites.Position) : required;
    }

    private Endpoint? PickReader(Topology topology, ulong required, List<Endpoint>? failed)
    {
        var readers = topology.Readers;
        if (required == 0 && failed is null)
        {
            return _selector.Pick(readers, topology.TotalReaderWeight);
        }

        var eligible = new Endpoint[readers.Length];
        var count = 0;
        foreach (var reader in readers)
        {
            if ((required == 0 || reader.LastStatus?.Position >= required) && failed?.Contains(reader) != true)
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
        var connection = CreateTracked(writer, isWriter: false);
        await OpenOrThrowAsync(connection, writer, cancellationToken).ConfigureAwait(false);
        _telemetry.Connections.Add(1, new KeyValuePair<string, object?>("endpoint", writer.Name), new KeyValuePair<string, object?>("role", "reader"));
        return (connection, writer);
    }

    private async ValueTask OpenOrThrowAsync(DbConnection connection, Endpoint endpoint, CancellationToken cancellationToken)
    {
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RoutingErrors.IsConnectionFailure(ex))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            RequestProbe();
            throw new RoutingException($"Could not connect to {endpoint.Name}; nothing was sent.", RetrySafety.Safe, endpoint.Name, ex);
        }
    }

    /// <summary>
    /// Before the first probe round, an operation that needs a role the configuration does not name waits for the round
    /// (bounded): an unreachable database then fails the operation, never the start-up.
    /// </summary>
    private async ValueTask<Topology> TopologyWithAsync(Func<Topology, bool> usable, CancellationToken cancellationToken)
    {
        var topology = Volatile.Read(ref _topology);
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

        return Volatile.Read(ref _topology);
    }

    private Exception Translate(Exception exception, Endpoint endpoint, bool routedAsWrite, bool mayHaveWritten)
    {
        RequestProbe();
        if (RoutingErrors.IsConnectionFailure(exception))
        {
            endpoint.ClearPool();
        }

        if (RoutingErrors.IsReadOnlyViolation(exception))
        {
            if (!routedAsWrite)
            {
                return new InvalidOperationException(
                    $"The statement tried to write on the read replica {endpoint.Name} and was refused; nothing was written. Send writes through the writer (ExecuteAsync, OpenWriterConnectionAsync).",
                    exception);
            }

            Log.WriterReadOnly(_logger, endpoint.Name);
            return new RoutingException($"The writer {endpoint.Name} refused the write as read-only (it is no longer the primary); nothing was written.", RetrySafety.Safe, endpoint.Name, exception);
        }

        return mayHaveWritten
            ? new RoutingException($"The connection to {endpoint.Name} failed while a write or commit was in flight; it may or may not have been applied.", RetrySafety.Unknown, endpoint.Name, exception)
            : new RoutingException($"The connection to {endpoint.Name} failed; nothing was committed.", RetrySafety.Safe, endpoint.Name, exception);
    }
}
