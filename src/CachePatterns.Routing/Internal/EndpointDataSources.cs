using System.Data.Common;

namespace CachePatterns.Routing.Internal;

/// <summary>
/// An endpoint's data sources: the application's read-write connections, read-only sessions for reads (where the engine
/// makes them), and the probes' own pool (where the engine makes one).
/// </summary>
internal sealed record EndpointDataSources(DbDataSource Connections, DbDataSource? ReadOnly, DbDataSource? Probes) : IDisposable, IAsyncDisposable
{
    public void Dispose()
    {
        Connections.Dispose();
        ReadOnly?.Dispose();
        Probes?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Connections.DisposeAsync().ConfigureAwait(false);
        if (ReadOnly is not null)
        {
            await ReadOnly.DisposeAsync().ConfigureAwait(false);
        }

        if (Probes is not null)
        {
            await Probes.DisposeAsync().ConfigureAwait(false);
        }
    }
}
