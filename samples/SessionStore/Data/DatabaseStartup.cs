using System.Data.Common;
using CachePatterns.Routing;
using SessionStore.Configuration;

namespace SessionStore.Data;

/// <summary>
/// Creates and seeds the database before the first request. A database server that does not answer at start-up does not
/// stop the app: it starts (health <c>Unhealthy</c>) and this service retries every few seconds until the schema is there.
/// A SQLite file that cannot be created is a configuration error and does stop start-up.
/// </summary>
public sealed class DatabaseStartup(DatabaseInitializer initializer, IDbConnectionFactory connections, TimeProvider time, ILogger<DatabaseStartup> logger)
    : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(3);

    /// <summary>The first attempt, awaited by <c>Program.cs</c> before the app serves requests.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (connections.Kind == DatabaseKind.Sqlite)
        {
            await initializer.InitializeAsync(cancellationToken);
            return;
        }

        await TryInitializeAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!initializer.IsInitialized && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(RetryInterval, time, stoppingToken);
            await TryInitializeAsync(stoppingToken);
        }
    }

    private async Task TryInitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await initializer.InitializeAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or RoutingException or TimeoutException)
        {
            Log.DatabaseNotReady(logger, connections.Description, RetryInterval, ex);
        }
    }
}
