using System.Data.Common;

namespace CachePatterns.Routing.Internal;

/// <summary>The reader endpoint as a <see cref="DbDataSource"/>: each connection goes to a replica chosen for the current consistency.</summary>
internal sealed class ReaderDataSource(RoutingDataSource router) : DbDataSource
{
    public override string ConnectionString => router.ConnectionString;

    /// <summary>
    /// An unopened connection can only be routed by what is known without I/O, so it goes to the writer when the read
    /// needs a write position not resolved yet; prefer <see cref="DbDataSource.OpenConnectionAsync"/>.
    /// </summary>
    protected override DbConnection CreateDbConnection() => router.CreateReaderConnection();

    protected override DbConnection OpenDbConnection() => router.OpenReaderAsync(null, null, CancellationToken.None).AsTask().GetAwaiter().GetResult().Connection;

    protected override async ValueTask<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken = default) =>
        (await router.OpenReaderAsync(null, null, cancellationToken).ConfigureAwait(false)).Connection;

    protected override DbCommand CreateDbCommand(string? commandText = null) =>
        throw new NotSupportedException("Commands without a connection are not routed; open a reader connection.");

    protected override DbBatch CreateDbBatch() =>
        throw new NotSupportedException("Batches without a connection are not routed; open a reader connection.");
}
