using System.Data.Common;
using System.Globalization;
using CachePatterns.Routing;

namespace SessionStore.Data;

/// <summary>
/// PostgreSQL or MariaDB/MySQL with replicas through the library's read/write router: reads on a replica chosen for the consistency
/// the call needs (the request's <see cref="RoutingConsistencyScope"/>, or every write of this process while the cache
/// fills a miss), writes and the seed on the current primary.
/// </summary>
public sealed class RoutingConnectionFactory(RoutingDataSource router, DatabaseKind kind) : IDbConnectionFactory
{
    public string Description => $"{(Kind == DatabaseKind.MariaDb ? "MariaDB" : "PostgreSQL")} via the read/write router ({router.GetEndpointStates().Count} servers)";

    public DatabaseKind Kind => kind;

    /// <summary>One entry per server: its role and what the last probe said (replay lag for replicas).</summary>
    public IReadOnlyList<DatabaseServer> DescribeServers() =>
        [.. router.GetEndpointStates().Select(static s => new DatabaseServer(s.Name, Describe(s), !s.IsEjected))];

    public async ValueTask<DbConnection> OpenReadAsync(CancellationToken cancellationToken) =>
        await router.OpenReaderConnectionAsync(consistency: null, cancellationToken);

    public async ValueTask<DbConnection> OpenWriteAsync(CancellationToken cancellationToken) =>
        await router.OpenWriterConnectionAsync(cancellationToken);

    private static string Describe(RoutingEndpointState state)
    {
        if (state.IsEjected)
        {
            return "ejected (not answering)";
        }

        if (state.LastStatus is not { } status)
        {
            return "not probed yet";
        }

        var role = state.IsWriter ? "writer" : status.IsPrimary ? "primary (not the writer)" : "replica";
        var reads = state.IsReadable ? ", takes reads" : state.IsWriter ? string.Empty : ", no reads (lagging)";
        var lag = status.IsPrimary ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", lag {status.ReplayLag.TotalMilliseconds:0} ms");
        return $"{role}{reads}{lag}";
    }
}
