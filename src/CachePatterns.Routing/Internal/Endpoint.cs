using System.Data.Common;
using Npgsql;

namespace CachePatterns.Routing.Internal;

/// <summary>
/// One server: the data source of the application's connections (replaced when its pool is cleared), the data source its
/// probes use, health and last probe answer.
/// </summary>
/// <remarks>
/// The probes have a pool of their own where the factory gives one (Npgsql: one connection). Probing through the
/// application's pool took a second connection whenever a probe came while a query held the first, and then the pool
/// handed its idle connections out in turn, so sequential queries alternated between two server backends: about 13 %
/// slower per query on loopback (docs/benchmarks.md). Probes also never wait behind an exhausted application pool.
/// </remarks>
internal sealed class Endpoint : IDisposable, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly RoutingEndpointOptions _options;
    private readonly Func<RoutingEndpointOptions, EndpointDataSources> _factory;
    private EndpointDataSources _sources;
    private int _outstanding;

    public Endpoint(RoutingEndpointOptions options, Func<RoutingEndpointOptions, EndpointDataSources> factory)
    {
        _options = options;
        _factory = factory;
        _sources = factory(options);
        Name = options.Name!;
    }

    public string Name { get; }

    public RoutingEndpointOptions Options => _options;

    public int Weight => _options.Weight;

    /// <summary>Gets the data source of the application's connections.</summary>
    public DbDataSource DataSource => Volatile.Read(ref _sources).Connections;

    /// <summary>Gets the data source of the probes: their own pool where the factory made one, else <see cref="DataSource"/>.</summary>
    public DbDataSource ProbeDataSource
    {
        get
        {
            var sources = Volatile.Read(ref _sources);
            return sources.Probes ?? sources.Connections;
        }
    }

    /// <summary>Gets or sets the consecutive failed probes (written by the probe loop only).</summary>
    public int ConsecutiveFailures { get; set; }

    public bool IsEjected { get; set; }

    public ReplicationStatus? LastStatus { get; set; }

    public int Outstanding => Volatile.Read(ref _outstanding);

    public void ConnectionOpened() => Interlocked.Increment(ref _outstanding);

    public void ConnectionClosed() => Interlocked.Decrement(ref _outstanding);

    /// <summary>
    /// Drops every pooled connection (idle ones now, busy ones when returned), the probes' included: Npgsql's pools are
    /// cleared; another provider's data sources are replaced by fresh ones and disposed. Used when the endpoint stops
    /// being the primary or a connection to it broke (its other pooled connections are most likely broken too).
    /// </summary>
    public void ClearPool()
    {
        var current = Volatile.Read(ref _sources);
        if (current.Connections is NpgsqlDataSource npgsql)
        {
            npgsql.Clear();
            (current.Probes as NpgsqlDataSource)?.Clear();
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

    public void Dispose() => Volatile.Read(ref _sources).Dispose();

    public ValueTask DisposeAsync() => Volatile.Read(ref _sources).DisposeAsync();
}
