using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using CachePatterns.Routing.PostgreSql;

namespace CachePatterns.Routing.Tests.Support;

/// <summary>A data source whose connections open without a server; its name says which endpoint a connection came from.</summary>
public sealed class FakeDataSource(string name) : DbDataSource
{
    public string Name { get; } = name;

    public bool Unreachable { get; set; }

    public override string ConnectionString => $"Host={Name}";

    protected override DbConnection CreateDbConnection() => new FakeConnection(this);

    protected override DbCommand CreateDbCommand(string? commandText = null) => throw new NotSupportedException();

    protected override DbBatch CreateDbBatch() => throw new NotSupportedException();
}

/// <summary>A connection that only opens and closes (raising <see cref="DbConnection.StateChange"/>), or fails to open.</summary>
public sealed class FakeConnection(FakeDataSource source) : DbConnection
{
    private ConnectionState _state;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string ConnectionString { get; set; } = source.ConnectionString;

    public override string Database => "fake";

    /// <summary>Gets the endpoint's name.</summary>
    public override string DataSource => source.Name;

    public override string ServerVersion => "0";

    public override ConnectionState State => _state;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Open()
    {
        if (source.Unreachable)
        {
            throw new TimeoutException($"{source.Name} does not answer.");
        }

        _state = ConnectionState.Open;
        OnStateChange(new StateChangeEventArgs(ConnectionState.Closed, ConnectionState.Open));
    }

    public override void Close()
    {
        if (_state == ConnectionState.Open)
        {
            _state = ConnectionState.Closed;
            OnStateChange(new StateChangeEventArgs(ConnectionState.Open, ConnectionState.Closed));
        }
    }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

    protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
}

/// <summary>
/// A probe that answers what the test says for each endpoint (by name): a status, a failure, or a hang (a probe that never
/// completes, as against a SIGSTOPped server). Positions are PostgreSQL's, on timeline 1 unless the test says otherwise.
/// </summary>
public sealed class FakeProbe : IReplicationProbe
{
    private readonly ConcurrentDictionary<string, Func<CancellationToken, Task<ReplicationStatus>>> _answers = new();
    private int _probes;
    private int _writePositionReads;

    public int Probes => Volatile.Read(ref _probes);

    public int WritePositionReads => Volatile.Read(ref _writePositionReads);

    public ReplicationPosition WritePosition { get; set; } = new PgPosition(1, 0);

    /// <summary>Gets or sets what a read of the write position waits for before answering (a slow primary).</summary>
    public Func<Task>? WritePositionDelay { get; set; }

    public FakeProbe Primary(string name, ulong position = 100, uint timeline = 1) => Set(name, new ReplicationStatus(true, new PgPosition(timeline, position), TimeSpan.Zero, IsReceiving: true));

    public FakeProbe Replica(string name, ulong position = 100, double lagSeconds = 0, uint timeline = 1, bool receiving = true) =>
        Set(name, new ReplicationStatus(false, new PgPosition(timeline, position), TimeSpan.FromSeconds(lagSeconds), receiving));

    public FakeProbe Down(string name)
    {
        _answers[name] = _ => Task.FromException<ReplicationStatus>(new TimeoutException($"{name} does not answer."));
        return this;
    }

    /// <summary>Probes of <paramref name="name"/> fail with <paramref name="exception"/> (a DNS failure, bad credentials).</summary>
    public FakeProbe Fails(string name, Exception exception)
    {
        _answers[name] = _ => Task.FromException<ReplicationStatus>(exception);
        return this;
    }

    /// <summary>Probes of <paramref name="name"/> never complete (the server stopped answering without closing anything).</summary>
    public FakeProbe Hung(string name)
    {
        _answers[name] = _ => new TaskCompletionSource<ReplicationStatus>().Task;
        return this;
    }

    /// <summary>
    /// Probes of <paramref name="name"/> never complete, and cancelling one blocks the cancelling thread until
    /// <paramref name="driverLetsGo"/> is set: what Npgsql does against a hung server (its token callback connects again,
    /// synchronously, to send the cancel request).
    /// </summary>
    public FakeProbe HungAndBlockingOnCancel(string name, ManualResetEventSlim driverLetsGo)
    {
        _answers[name] = cancellationToken =>
        {
            var never = new TaskCompletionSource<ReplicationStatus>();
            cancellationToken.Register(() => driverLetsGo.Wait());
            return never.Task;
        };
        return this;
    }

    public ValueTask<ReplicationStatus> ProbeAsync(DbDataSource endpoint, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        var name = ((FakeDataSource)endpoint).Name;
        return _answers.TryGetValue(name, out var answer)
            ? new ValueTask<ReplicationStatus>(answer(cancellationToken))
            : ValueTask.FromException<ReplicationStatus>(new TimeoutException($"{name} does not answer."));
    }

    public async ValueTask<ReplicationPosition> GetWritePositionAsync(DbDataSource writer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writePositionReads);
        var position = WritePosition;
        if (WritePositionDelay is { } delay)
        {
            await delay();
        }

        return position;
    }

    private FakeProbe Set(string name, ReplicationStatus status)
    {
        _answers[name] = _ => Task.FromResult(status);
        return this;
    }
}

/// <summary>A router over fake endpoints that probes only when the test says so (or on the fake clock).</summary>
public sealed class FakeCluster : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _created = new();

    public FakeCluster(string[] names, Action<RoutingOptions>? configure = null, TimeProvider? time = null, bool startProbing = false)
    {
        var options = new RoutingOptions { Probe = Probe, DataSourceFactory = Create };
        foreach (var name in names)
        {
            options.Endpoints.Add(new RoutingEndpointOptions { Name = name, ConnectionString = $"Host={name}" });
        }

        configure?.Invoke(options);
        Router = new RoutingDataSource(options, time, loggerFactory: null, meterFactory: null, startProbing);
    }

    public FakeProbe Probe { get; } = new();

    public RoutingDataSource Router { get; }

    public ConcurrentDictionary<string, FakeDataSource> Sources { get; } = new();

    /// <summary>How many data sources were built for an endpoint (a pool cleared by replacement builds another).</summary>
    public int Created(string name) => _created.GetValueOrDefault(name);

    public RoutingEndpointState State(string name) => Router.GetEndpointStates().Single(s => s.Name == name);

    /// <summary>Opens a read connection and returns the name of the endpoint it went to (closing it).</summary>
    public async Task<string> ReadOnAsync(ReadConsistency? consistency = null)
    {
        await using var connection = await Router.OpenReaderConnectionAsync(consistency);
        return connection.DataSource;
    }

    public ValueTask DisposeAsync() => Router.DisposeAsync();

    private FakeDataSource Create(RoutingEndpointOptions endpoint)
    {
        _created.AddOrUpdate(endpoint.Name!, 1, (_, n) => n + 1);
        var source = Sources.GetOrAdd(endpoint.Name!, n => new FakeDataSource(n));
        return source;
    }
}
