using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionStore.Data;

/// <summary>
/// Healthy when the schema is in place and the database answers <c>SELECT 1</c> on a read connection; with the router,
/// the details list each server's role and replay lag, and a server that stopped answering makes it Degraded.
/// </summary>
public sealed class DatabaseHealthCheck(IDbConnectionFactory connections, DatabaseInitializer initializer) : IHealthCheck
{
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
            await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return states.Any(static s => !s.Answers)
                ? HealthCheckResult.Degraded($"{connections.Description}: a server does not answer.", data: servers)
                : HealthCheckResult.Healthy(connections.Description, servers);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{connections.Description} did not answer.", ex, servers);
        }
    }
}
