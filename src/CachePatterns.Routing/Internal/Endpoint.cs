using System.Data.Common;

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
    /// Drops every pooled connection: a fresh data source takes the old one's place and the old one is disposed, which
    /// closes its idle connections (busy ones close when returned). Used when the endpoint stops being the primary.
    /// </summary>
    public void ClearPool()
    {
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
