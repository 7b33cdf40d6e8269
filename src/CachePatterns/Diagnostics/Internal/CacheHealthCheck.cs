using CachePatterns.Internal;
using CachePatterns.Resilience.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CachePatterns.Diagnostics.Internal;

/// <summary>
/// Reports one cache's provider: healthy when it answers, the registration's failure status (degraded by
/// default: the application still works, reads go to the database) when it does not, its circuit is open, or it
/// refused writes because it is full. The text names the cause (authentication, refused, timeout, full).
/// </summary>
internal sealed class CacheHealthCheck : IHealthCheck
{
    /// <summary>How long after a refused write the cache is still reported full.</summary>
    private static readonly TimeSpan FullReportedFor = TimeSpan.FromSeconds(60);

    private readonly CacheInstance _instance;

    public CacheHealthCheck(CacheInstance instance) => _instance = instance;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failureStatus = context.Registration.FailureStatus;
        var name = $"Cache '{_instance.Name}' ({_instance.Provider.Name})";
        if (_instance.Pipeline is { IsCircuitOpen: true } open)
        {
            var cause = open.LastProviderFailure is { } last
                ? $"{ProviderFailure.Describe(last.Reason)} ({last.Description})"
                : "provider failures";
            return new HealthCheckResult(failureStatus, $"{name}: circuit open after provider failures, cause: {cause}; reads go to the database.");
        }

        try
        {
            var health = await _instance.Provider.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            var description = $"{name}: {health.Description}";
            if (!health.IsHealthy)
            {
                return new HealthCheckResult(failureStatus, description, data: health.Data);
            }

            if (_instance.Pipeline is { } pipeline && pipeline.LastFullAt != long.MinValue
                && _instance.Time.GetElapsedTime(pipeline.LastFullAt) < FullReportedFor)
            {
                return new HealthCheckResult(
                    failureStatus,
                    $"{description} The provider is full: it refused to store values in the last {FullReportedFor.TotalSeconds:0} s (they are not cached; reads still use the cache).",
                    data: health.Data);
            }

            return HealthCheckResult.Healthy(description, health.Data);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(failureStatus, $"{name} did not answer.", ex);
        }
    }
}
