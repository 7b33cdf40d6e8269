namespace CachePatterns.Routing;

/// <summary>How a read picks one of the eligible replicas. Every policy honours <see cref="RoutingEndpointOptions.Weight"/>.</summary>
public enum ReaderSelection
{
    /// <summary>Weighted round-robin: each replica gets reads in proportion to its weight.</summary>
    RoundRobin,

    /// <summary>Weighted random choice.</summary>
    Random,

    /// <summary>The replica with the fewest open connections through this router, relative to its weight.</summary>
    LeastOutstanding,
}
