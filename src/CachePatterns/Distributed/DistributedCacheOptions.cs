namespace CachePatterns.Distributed;

/// <summary>Options of the <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> registered over a cache.</summary>
public sealed class DistributedCacheOptions
{
    /// <summary>Gets or sets the namespace of its keys in the provider. Default: <c>dc:</c>.</summary>
    public string KeyPrefix { get; set; } = "dc:";
}
