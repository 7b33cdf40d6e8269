using System.Data;
using System.Data.Common;
using System.Diagnostics.Metrics;
using CachePatterns.Routing.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachePatterns.Routing;

/// <summary>
/// A data source over a replicated database that does, inside the process, what a managed cluster's writer and reader
/// endpoints do: as a <see cref="DbDataSource"/> it is the writer endpoint (always the current primary), and
/// <see cref="Readers"/> is the reader endpoint (reads spread over healthy replicas within the lag bound). Probes find the
/// roles, so a promoted replica takes the writes within a probe interval or two, with no restart.
/// </summary>
/// <remarks>
/// Reads made in a <see cref="RoutingConsistencyScope"/> see the scope's writes; reads made while the cache fills a miss
/// (<see cref="CacheFillContext.IsActive"/>) see every write made through this router in this process. See docs/routing.md.
/// </remarks>
public sealed partial class RoutingDataSource : DbDataSource
{
    private readonly RoutingOptions _options;
    private readonly RoutingEngine _engine;
    private readonly IReplicationProbe _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RoutingTelemetry _telemetry;
    private readonly Endpoint[] _endpoints;
    private readonly ReaderSelector _selector;
    private readonly WritePosition _processWrites = new();
    private readonly AsyncLocal<RoutingConsistencyScope?> _scope = new();
    private readonly ReaderDataSource _readers;
    private Topology _topology;

    /// <summary>Initializes a new instance of the <see cref="RoutingDataSource"/> class and starts probing its endpoints.</summary>
    /// <param name="options">The endpoints and routing settings; validated here (an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> names bad values).</param>
    /// <param name="timeProvider">The clock of the probe timer and timeouts; default the system clock.</param>
    /// <param name="loggerFactory">Creates the router's logger.</param>
    /// <param name="meterFactory">Creates the router's meter (<c>CachePatterns.Routing</c>).</param>
    public RoutingDataSource(RoutingOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
        : this(options, timeProvider, loggerFactory, meterFactory, startProbing: true)
    {
    }

    internal RoutingDataSource(RoutingOptions options, TimeProvider? timeProvider, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory, bool startProbing)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoints = RoutingOptionsValidator.ThrowIfInvalid(Microsoft.Extensions.Options.Options.DefaultName, options);
        _options = options;
        _engine = options.Engine;
        _probe = options.Probe ?? _engine.Probe;
        _time = timeProvider ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger<RoutingDataSource>() ?? NullLogger<RoutingDataSource>.Instance;
        _telemetry = new RoutingTelemetry(meterFactory);
        Func<RoutingEndpointOptions, EndpointDataSources> factory = options.DataSourceFactory is { } custom
            ? endpoint => new EndpointDataSources(custom(endpoint), ReadOnly: null, Probes: null)
            : endpoint => _engine.CreateDataSources(options, endpoint);
        _endpoints = [.. endpoints.Select(e => new Endpoint(e, factory, _engine))];
        _selector = new ReaderSelector(options.ReaderSelection);
        _readers = new ReaderDataSource(this);
        _topology = BuildTopology(previousWriter: null);
        if (startProbing)
        {
            _probeLoops = StartProbeLoops();
        }
        else
        {
            _firstRound.TrySetResult();
        }
    }

    /// <summary>Gets the reader endpoint as a data source: each connection it opens goes to a replica chosen for the current consistency.</summary>
    public DbDataSource Readers => _readers;

    /// <summary>Gets the consistency scope of the current async context, if any.</summary>
    public RoutingConsistencyScope? CurrentScope => _scope.Value;

    /// <summary>Gets the primary's position after the latest write through this router whose position is known (the process-wide high-water mark), or <see langword="null"/> before any.</summary>
    public ReplicationPosition? LastWritePosition => _processWrites.Position;

    /// <summary>Gets the current writer's connection string (as its data source shows it: without the password unless the connection string asks to persist it).</summary>
    public override string ConnectionString => (_topology.Writer ?? _endpoints[0]).DataSource.ConnectionString;

    /// <summary>
    /// Begins a consistency scope in the current async context (for example one HTTP request), until the returned scope is
    /// disposed. Reads in it that do not choose their own consistency use <paramref name="consistency"/>.
    /// </summary>
    /// <param name="consistency">The consistency of the scope's reads.</param>
    /// <returns>The scope; dispose it to end it.</returns>
    public RoutingConsistencyScope BeginConsistencyScope(ReadConsistency consistency = ReadConsistency.ReadYourWrites)
    {
        var scope = new RoutingConsistencyScope(this, consistency, _scope.Value);
        _scope.Value = scope;
        return scope;
    }

    /// <summary>Opens a connection on the writer (the current primary): for writes, transactions and locking reads.</summary>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The open connection; dispose it to return it to the pool.</returns>
    /// <exception cref="RoutingException">No healthy primary is known, or the connection failed (always safe to retry).</exception>
    public async ValueTask<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken = default) =>
        (await OpenWriterAsync(cancellationToken).ConfigureAwait(false)).Connection;

    /// <summary>
    /// Opens a connection for reads: on a replica that satisfies <paramref name="consistency"/> (default: the scope's,
    /// else <see cref="RoutingOptions.DefaultConsistency"/>), or on the writer when none does.
    /// </summary>
    /// <param name="consistency">What the reads must see; <see langword="null"/> for the scope's or the default.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The open connection; dispose it to return it to the pool.</returns>
    /// <exception cref="RoutingException">No endpoint can take the read (always safe to retry).</exception>
    public async ValueTask<DbConnection> OpenReaderConnectionAsync(ReadConsistency? consistency = null, CancellationToken cancellationToken = default) =>
        (await OpenReaderAsync(consistency, null, cancellationToken).ConfigureAwait(false)).Connection;

    /// <summary>What the router knows about each endpoint now.</summary>
    /// <returns>One state per endpoint, in configuration order.</returns>
    public IReadOnlyList<RoutingEndpointState> GetEndpointStates()
    {
        var topology = CurrentTopology();
        return [.. _endpoints.Select(e => new RoutingEndpointState(
            e.Name,
            ReferenceEquals(e, topology.Writer),
            Array.IndexOf(topology.Readers, e) >= 0,
            e.IsEjected,
            e.LastStatus,
            e.Outstanding))];
    }

    /// <inheritdoc/>
    protected override DbConnection CreateDbConnection()
    {
        var writer = _topology.Writer ?? throw NoWriter();
        return CreateTracked(writer, writer.DataSource, isWriter: true);
    }

    /// <inheritdoc/>
    protected override DbConnection OpenDbConnection() => OpenWriterAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult().Connection;

    /// <inheritdoc/>
    protected override async ValueTask<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken = default) =>
        (await OpenWriterAsync(cancellationToken).ConfigureAwait(false)).Connection;

    /// <inheritdoc/>
    protected override DbCommand CreateDbCommand(string? commandText = null) =>
        throw new NotSupportedException("Commands without a connection are not routed; open a writer or reader connection, or use the Dapper helpers.");

    /// <inheritdoc/>
    protected override DbBatch CreateDbBatch() =>
        throw new NotSupportedException("Batches without a connection are not routed; open a writer or reader connection.");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping.Cancel();
            foreach (var endpoint in _endpoints)
            {
                endpoint.Dispose();
            }

            _telemetry.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeAsyncCore()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_probeLoops is not null)
        {
            await _probeLoops.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var endpoint in _endpoints)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        _telemetry.Dispose();
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    internal void EndScope(RoutingConsistencyScope scope)
    {
        if (ReferenceEquals(_scope.Value, scope))
        {
            _scope.Value = scope.Parent;
        }
    }

    /// <summary>A connection of <paramref name="source"/> (one of <paramref name="endpoint"/>'s) whose opens and closes are counted, and whose opens and closes on the writer count a write to resolve.</summary>
    private DbConnection CreateTracked(Endpoint endpoint, DbDataSource source, bool isWriter)
    {
        var connection = source.CreateConnection();
        var scopeWrites = isWriter ? _scope.Value?.Writes : null;
        var processWrites = isWriter ? _processWrites : null;
        processWrites?.MarkWrite();
        scopeWrites?.MarkWrite();
        var open = false;
        connection.StateChange += (_, e) =>
        {
            if (e.CurrentState == ConnectionState.Open && !open)
            {
                open = true;
                endpoint.ConnectionOpened();
            }
            else if (e.CurrentState == ConnectionState.Closed && open)
            {
                open = false;
                endpoint.ConnectionClosed();

                // After the commit: the next read that needs this write's position reads it from the primary.
                processWrites?.MarkWrite();
                scopeWrites?.MarkWrite();
            }
        };
        return connection;
    }

    /// <summary>
    /// No healthy primary is known: the error names why, from what the probes last saw of each endpoint (a refused
    /// connection, bad credentials, an unknown host, a hang, or "a replica"), and carries the likeliest cause as its inner
    /// exception: the last writer's probe failure, else the first endpoint's.
    /// </summary>
    private RoutingException NoWriter()
    {
        var causes = new System.Text.StringBuilder();
        Exception? inner = null;
        foreach (var endpoint in _endpoints)
        {
            var what = endpoint.LastError is { } error ? Describe(error)
                : endpoint.LastStatus is { IsPrimary: false } ? "a replica"
                : endpoint.IsEjected ? "ejected"
                : endpoint.Probed ? "a primary not chosen as writer" : "not probed yet";
            causes.Append(causes.Length == 0 ? " " : "; ").Append(endpoint.Name).Append(": ").Append(what);
            if (endpoint.LastError is not null && (inner is null || ReferenceEquals(endpoint, _lastWriter)))
            {
                inner = endpoint.LastError;
            }
        }

        return new RoutingException($"No healthy primary is known; nothing was sent.{causes}.", RetrySafety.Safe, endpoint: null, inner);
    }

    /// <summary>An exception's message with its inner exception's (Npgsql wraps socket and DNS errors), for routing errors. Never a connection string.</summary>
    private static string Describe(Exception exception) =>
        (exception.InnerException is { } inner && !exception.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{exception.Message.TrimEnd('.')} ({inner.Message.TrimEnd('.')})"
            : exception.Message).TrimEnd('.');
}
