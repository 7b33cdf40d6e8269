namespace CachePatterns.Routing;

/// <summary>What the configuration says an endpoint is. Probes discover the actual role; this is only the starting point.</summary>
public enum EndpointRole
{
    /// <summary>Unknown until the first probe answers (a host list whose roles are discovered).</summary>
    Auto,

    /// <summary>Expected to be the primary: used for writes before the first probe answers.</summary>
    Writer,

    /// <summary>Expected to be a read replica: used for reads before the first probe answers.</summary>
    Reader,
}
