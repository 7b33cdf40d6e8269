using System.Data.Common;
using MySqlConnector;
using Npgsql;

namespace CachePatterns.Routing;

/// <summary>Configures a <see cref="RoutingDataSource"/>: its endpoints, reader selection, health probes, lag bounds and credentials.</summary>
public sealed class RoutingOptions
{
    /// <summary>
    /// Gets or sets a PostgreSQL connection string whose <c>Host</c> lists every server (<c>Host=db1:5432,db2:5432</c>):
    /// one endpoint per host, roles discovered by the probes. Use this or <see cref="Endpoints"/>, not both.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets the servers, each with its own connection string (a writer and readers, or servers of <see cref="EndpointRole.Auto"/> role).</summary>
    public IList<RoutingEndpointOptions> Endpoints { get; } = [];

    /// <summary>Gets or sets how reads pick a replica.</summary>
    public ReaderSelection ReaderSelection { get; set; } = ReaderSelection.RoundRobin;

    /// <summary>Gets or sets a value indicating whether reads go to the writer when no replica is healthy (otherwise they fail with a <see cref="RoutingException"/>).</summary>
    public bool FallbackToWriter { get; set; } = true;

    /// <summary>Gets or sets the consistency of reads made outside a <see cref="RoutingConsistencyScope"/> and without a per-call choice.</summary>
    public ReadConsistency DefaultConsistency { get; set; } = ReadConsistency.Eventual;

    /// <summary>Gets or sets how often every endpoint is probed for its role, position and lag.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long one probe may take. The router enforces it itself, whatever the driver does; a probe that
    /// takes longer ejects the endpoint at once (a hung server), so a hung endpoint is out within this plus <see cref="ProbeInterval"/>.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how many probes in a row must fail fast (refused, reset, bad credentials) before an endpoint gets no more work; a probe that times out ejects at once; one success readmits it.</summary>
    public int FailuresBeforeEjection { get; set; } = 2;

    /// <summary>
    /// Gets or sets the lag in time beyond which a replica gets no reads; <see langword="null"/> for no bound. Judged against
    /// the writer's probed positions (a replica lacking a position the writer had longer ago than this is out, whatever it
    /// reports about itself) and the engine's own estimate while the replica receives.
    /// </summary>
    public TimeSpan? MaxReplicaLag { get; set; }

    /// <summary>Gets or sets the replay lag in bytes of WAL beyond which a replica gets no reads; <see langword="null"/> for no bound.</summary>
    public long? MaxReplicaLagBytes { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether reads made while the cache fills a miss (<see cref="CacheFillContext.IsActive"/>)
    /// require a replica that has replayed the latest write made through this router in this process, or the writer.
    /// </summary>
    public bool FillAwareRouting { get; set; } = true;

    /// <summary>Gets or sets the database engine: how endpoints are named and built, probed and their errors read. Default <see cref="RoutingEngine.PostgreSql"/>.</summary>
    public RoutingEngine Engine { get; set; } = RoutingEngine.PostgreSql;

    /// <summary>Gets or sets the probe of roles and positions; default the <see cref="Engine"/>'s (PostgreSQL: <see cref="PostgreSql.NpgsqlReplicationProbe"/>).</summary>
    public IReplicationProbe? Probe { get; set; }

    /// <summary>
    /// Gets or sets the factory of each endpoint's data source, to route another ADO.NET provider. Default: an
    /// <see cref="NpgsqlDataSource"/> built from the endpoint's connection string, <see cref="PasswordProvider"/> and
    /// <see cref="ConfigureNpgsql"/>, with the probes on a pool of their own of one connection. Probes use the data source
    /// this factory returns. Called again for an endpoint whose pool is cleared (after a failover).
    /// </summary>
    public Func<RoutingEndpointOptions, DbDataSource>? DataSourceFactory { get; set; }

    /// <summary>
    /// Gets or sets the password (or short-lived auth token) provider, called when a physical connection opens, or every
    /// <see cref="PasswordRefreshInterval"/> when that is set (per pool: each endpoint has the application's and the
    /// probes'). Used by the default (Npgsql) data source factory.
    /// </summary>
    public Func<RoutingEndpointOptions, CancellationToken, ValueTask<string>>? PasswordProvider { get; set; }

    /// <summary>Gets or sets how often <see cref="PasswordProvider"/> is called in the background (tokens that live 15 minutes: 10 minutes); <see langword="null"/> calls it at every physical open.</summary>
    public TimeSpan? PasswordRefreshInterval { get; set; }

    /// <summary>
    /// Gets or sets a callback that configures each endpoint's <see cref="NpgsqlDataSourceBuilder"/> (TLS callbacks, type
    /// mappings). Called once per endpoint; the builder then builds the application's pool, and the probes' pool with
    /// pooling on, multiplexing off and a maximum pool size of one.
    /// </summary>
    public Action<RoutingEndpointOptions, NpgsqlDataSourceBuilder>? ConfigureNpgsql { get; set; }

    /// <summary>
    /// Gets or sets a callback that configures each endpoint's <see cref="MySqlDataSourceBuilder"/> (MySQL and MariaDB: TLS
    /// callbacks, client certificates). Called for the application's pool and again for the probes' pool, whose pooling is
    /// then set to at most one connection.
    /// </summary>
    public Action<RoutingEndpointOptions, MySqlDataSourceBuilder>? ConfigureMySql { get; set; }

    /// <summary>
    /// Gets or sets how long a read that must see a write (read-your-writes, a fill after a write) may wait on a replica that
    /// has not applied it yet, where the engine can wait for a position on the replica itself (MySQL/MariaDB: GTID waits),
    /// before it goes to the writer. Zero (the default): to the writer at once, until a probe finds a replica caught up.
    /// </summary>
    public TimeSpan ReadYourWritesWait { get; set; }
}
