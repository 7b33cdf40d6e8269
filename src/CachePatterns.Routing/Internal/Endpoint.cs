using System.Data.Common;

namespace CachePatterns.Routing.Internal;

/// <summary>
/// One server: its data sources (replaced when the engine cannot clear their pools), health, last probe answer, and a
/// token cancelled when it is ejected, which releases every operation still waiting on it.
/// </summary>
/// <remarks>
/// The probes have a pool of their own where the engine gives one (Npgsql: one connection). Probing through the
/// application's pool took a second connection whenever a probe came while a query held the first, and then the pool
/// handed its idle connections out in turn, so sequential queries alternated between two server backends: about 13 %
/// slower per query on loopback (docs/benchmarks.md). Probes also never wait behind an exhausted application pool.
/// </remarks>
internal sealed class Endpoint : IDisposable, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly RoutingEndpointOptions _options;
    private readonly Func<RoutingEndpointOptions, EndpointDataSources> _factory;
    private readonly RoutingEngine _engine;
    private EndpointDataSources _sources;
    private CancellationTokenSource _ejected = new();
    private int _outstanding;
    private object? _lastStatus;

    public Endpoint(RoutingEndpointOptions options, Func<RoutingEndpointOptions, EndpointDataSources> factory, RoutingEngine engine)
    {
        _options = options;
        _factory = factory;
        _engine = engine;
        _sources = factory(options);
        Name = options.Name!;
    }

    public string Name { get; }

    public RoutingEndpointOptions Options => _options;

    public int Weight => _options.Weight;

    /// <summary>Gets the data source of the application's read-write connections.</summary>
    public DbDataSource DataSource => Volatile.Read(ref _sources).Connections;

    /// <summary>Gets the data source of reads: read-only sessions where the engine makes them, else <see cref="DataSource"/>.</summary>
    public DbDataSource ReadDataSource
    {
        get
        {
            var sources = Volatile.Read(ref _sources);
            return sources.ReadOnly ?? sources.Connections;
        }
    }

    /// <summary>Gets the data source of the probes: their own pool where the engine made one, else <see cref="DataSource"/>.</summary>
    public DbDataSource ProbeDataSource
    {
        get
        {
            var sources = Volatile.Read(ref _sources);
            return sources.Probes ?? sources.Connections;
        }
    }

    /// <summary>Gets one probe of this endpoint at a time (the loop's and <see cref="RoutingDataSource.RefreshAsync"/>'s).</summary>
    public SemaphoreSlim ProbeGate { get; } = new(1, 1);

    /// <summary>Gets or sets the consecutive failed probes (written under the router's apply lock).</summary>
    public int ConsecutiveFailures { get; set; }

    public bool IsEjected { get; private set; }

    /// <summary>Gets or sets whether any probe of this endpoint has completed (answered, failed or timed out).</summary>
    public bool Probed { get; set; }

    /// <summary>Gets or sets the last successful probe's answer; boxed, so readers on other threads never see half of an update.</summary>
    public ReplicationStatus? LastStatus
    {
        get => (ReplicationStatus?)Volatile.Read(ref _lastStatus);
        set => Volatile.Write(ref _lastStatus, value);
    }

    /// <summary>Gets or sets when the last successful probe answered (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long LastAnswered { get; set; }

    /// <summary>Gets or sets why the last probe failed (<see langword="null"/> after a success): the cause named in routing errors.</summary>
    public Exception? LastError { get; set; }

    /// <summary>Gets a token cancelled when the endpoint is ejected: operations waiting on it stop waiting.</summary>
    public CancellationToken EjectedToken => Volatile.Read(ref _ejected).Token;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public void ConnectionOpened() => Interlocked.Increment(ref _outstanding);

    public void ConnectionClosed() => Interlocked.Decrement(ref _outstanding);

    /// <summary>Ejects the endpoint and releases every operation waiting on it. Called under the router's apply lock.</summary>
    public void Eject()
    {
        IsEjected = true;

        // Released on the thread pool: the waiters' continuations (retries, new opens) must not run under the apply lock.
        _ = Volatile.Read(ref _ejected).CancelAsync();
    }

    /// <summary>Readmits the endpoint with a fresh ejection token. Called under the router's apply lock.</summary>
    public void Readmit()
    {
        // The old source is not disposed: operations that took its token before the readmission may still register on it.
        IsEjected = false;
        Volatile.Write(ref _ejected, new CancellationTokenSource());
    }

    /// <summary>
    /// Drops every pooled connection (idle ones now, busy ones when returned), the probes' included: pools the engine can clear
    /// are cleared; otherwise the data sources are replaced by fresh ones and disposed. Used when the endpoint stops being
    /// the primary or a connection to it broke (its other pooled connections are most likely broken too).
    /// </summary>
    public void ClearPool()
    {
        if (_engine.TryClearPools(Volatile.Read(ref _sources)))
        {
            return;
        }

        EndpointDataSources old;
        lock (_gate)
        {
            old = _sources;
            Volatile.Write(ref _sources, _factory(_options));
        }

        old.Dispose();
    }

    public void Dispose()
    {
        Volatile.Read(ref _sources).Dispose();
        _ejected.Dispose();
        ProbeGate.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Volatile.Read(ref _sources).DisposeAsync().ConfigureAwait(false);
        _ejected.Dispose();
        ProbeGate.Dispose();
    }
}
