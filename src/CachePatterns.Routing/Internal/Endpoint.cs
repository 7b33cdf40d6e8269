using System.Data.Common;
using Npgsql;

namespace CachePatterns.Routing.Internal;

/// <summary>One server: its data source (replaced when its pool is cleared), health and last probe answer.</summary>
internal sealed class Endpoint(RoutingEndpointOptions options, Func<RoutingEndpointOptions, DbDataSource> factory) : IDisposable
{
    private readonly Lock _gate = new();
    private DbDataSource _dataSource = factory(options);
    private int _outstanding;

    public string Name { get; } = options.Name!;

    public RoutingEndpointOptions Options => options;

    public int Weight => options.Weight;

    public DbDataSource DataSource => Volatile.Read(ref _dataSource);

    /// <summary>Gets or sets the consecutive failed probes (written by the probe loop only).</summary>
    public int ConsecutiveFailures { get; set; }

    public bool IsEjected { get; set; }

    public ReplicationStatus? LastStatus { get; set; }

    public int Outstanding => Volatile.Read(ref _outstanding);

    public void ConnectionOpened() => Interlocked.Increment(ref _outstanding);

    public void ConnectionClosed() => Interlocked.Decrement(ref _outstanding);

    /// <summary>
    /// Drops every pooled connection (idle ones now, busy ones when returned): Npgsql's pool is cleared; another
    /// provider's data source is replaced by a fresh one and disposed. Used when the endpoint stops being the primary or
    /// a connection to it broke (its other pooled connections are most likely broken too).
    /// </summary>
    public void ClearPool()
    {
        if (DataSource is NpgsqlDataSource npgsql)
        {
            npgsql.Clear();
            return;
        }

        DbDataSource old;
        lock (_gate)
        {
            old = _dataSource;
            Volatile.Write(ref _dataSource, factory(options));
        }

        old.Dispose();
    }

    public void Dispose() => DataSource.Dispose();
}
