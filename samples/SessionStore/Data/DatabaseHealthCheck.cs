using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionStore.Data;

/// <summary>
/// Healthy when the schema is in place and the app's own tables answer a query on a read connection (<c>SELECT 1</c>
/// would not touch the file: a SQLite file that became unreadable still answered it), with the router,
/// the details list each server's role and replay lag, and a server that stopped answering makes it Degraded.
/// </summary>
public sealed class DatabaseHealthCheck(IDbConnectionFactory connections, DatabaseInitializer initializer) : IHealthCheck
{
    private const string CountTables = "SELECT (SELECT COUNT(*) FROM users) AS Users, (SELECT COUNT(*) FROM products) AS Products";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var states = connections.DescribeServers();
        var servers = states.ToDictionary(static s => s.Name, static s => (object)s.State);
        if (!initializer.IsInitialized)
        {
            return HealthCheckResult.Unhealthy($"{connections.Description}: schema not created yet (retrying).", data: servers);
        }

        try
        {
            await using var connection = await connections.OpenReadAsync(cancellationToken);
            var counts = await connection.QuerySingleAsync<TableCounts>(new CommandDefinition(CountTables, cancellationToken: cancellationToken));
            servers["users"] = counts.Users;
            servers["products"] = counts.Products;
            if (counts.Users == 0 || counts.Products == 0)
            {
                return HealthCheckResult.Unhealthy($"{connections.Description}: the users or products table is empty.", data: servers);
            }

            return states.Any(static s => !s.Answers)
                ? HealthCheckResult.Degraded($"{connections.Description}: a server does not answer.", data: servers)
                : HealthCheckResult.Healthy(connections.Description, servers);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{connections.Description} did not answer.", ex, servers);
        }
    }

    private sealed record TableCounts(long Users, long Products);
}
