namespace CachePatterns.Routing;

/// <summary>One database server the router may send work to.</summary>
public sealed class RoutingEndpointOptions
{
    /// <summary>Gets or sets the name used in logs, metrics and exceptions; default <c>host:port</c> for PostgreSQL. Never put secrets here.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the provider's connection string of this one server (TLS settings such as <c>SSL Mode</c> pass through).</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Gets or sets the role expected before the first probe answers; probes decide afterwards.</summary>
    public EndpointRole Role { get; set; } = EndpointRole.Auto;

    /// <summary>Gets or sets the share of reads relative to the other replicas (1 to 1000).</summary>
    public int Weight { get; set; } = 1;
}
