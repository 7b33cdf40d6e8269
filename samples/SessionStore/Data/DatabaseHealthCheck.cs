using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionStore.Data;

/// <summary>Healthy when the database answers <c>SELECT 1</c> on a read connection.</summary>
public sealed class DatabaseHealthCheck(IDbConnectionFactory connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await connections.OpenReadAsync(cancellationToken);
            await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy(connections.Description);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{connections.Description} did not answer.", ex);
        }
    }
}
