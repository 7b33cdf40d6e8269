using CachePatterns.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CachePatterns.Diagnostics.Internal;

/// <summary>
/// Reports one cache's provider: healthy when it answers, the registration's failure status (degraded by
/// default: the application still works, reads go to the database) when it does not or its circuit is open.
/// </summary>
internal sealed class CacheHealthCheck : IHealthCheck
{
    private readonly CacheInstance _instance;

    public CacheHealthCheck(CacheInstance instance) => _instance = instance;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failureStatus = context.Registration.FailureStatus;
        if (_instance.Pipeline is { IsCircuitOpen: true })
        {
            return new HealthCheckResult(failureStatus, $"Cache '{_instance.Name}' ({_instance.Provider.Name}): circuit open after provider failures; reads go to the database.");
        }

        try
        {
            var health = await _instance.Provider.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            var description = $"Cache '{_instance.Name}' ({_instance.Provider.Name}): {health.Description}";
            return health.IsHealthy
                ? HealthCheckResult.Healthy(description, health.Data)
                : new HealthCheckResult(failureStatus, description, data: health.Data);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(failureStatus, $"Cache '{_instance.Name}' ({_instance.Provider.Name}) did not answer.", ex);
        }
    }
}
