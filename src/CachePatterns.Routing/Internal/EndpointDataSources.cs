using System.Data.Common;

namespace CachePatterns.Routing.Internal;

/// <summary>An endpoint's data sources: the application's connections, and the probes' own when there is one.</summary>
internal sealed record EndpointDataSources(DbDataSource Connections, DbDataSource? Probes) : IDisposable, IAsyncDisposable
{
    public void Dispose()
    {
        Connections.Dispose();
        Probes?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Connections.DisposeAsync().ConfigureAwait(false);
        if (Probes is not null)
        {
            await Probes.DisposeAsync().ConfigureAwait(false);
        }
    }
}
