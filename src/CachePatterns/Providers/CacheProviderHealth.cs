namespace CachePatterns.Providers;

/// <summary>The result of a provider health check.</summary>
/// <param name="IsHealthy">Whether the provider answers.</param>
/// <param name="Description">What was checked or what is wrong.</param>
/// <param name="Data">Figures worth showing (memory use, evictions, node states).</param>
public sealed record CacheProviderHealth(bool IsHealthy, string Description, IReadOnlyDictionary<string, object>? Data = null);
