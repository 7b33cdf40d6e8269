namespace CachePatterns.AspNetCore.OutputCaching;

/// <summary>Options of the ASP.NET Core output-cache store registered by <c>AddOutputCacheStore()</c>.</summary>
public sealed class CachePatternsOutputCacheOptions
{
    /// <summary>Gets or sets the namespace of the store's keys in the provider. Default: <c>oc:</c>.</summary>
    public string KeyPrefix { get; set; } = "oc:";

    /// <summary>
    /// Gets or sets the most responses the in-memory provider keeps, separately from every other owner's bound;
    /// <see langword="null"/> (default) uses the provider's <c>MaxEntries</c>. Remote providers ignore it.
    /// </summary>
    public int? MaxEntries { get; set; }

    /// <summary>
    /// Gets or sets the most bytes of responses the in-memory provider keeps. Default: 100 MiB (as ASP.NET Core's
    /// <c>OutputCacheOptions.SizeLimit</c>). Remote providers ignore it (the server's memory policy decides).
    /// </summary>
    public long? MaxBytes { get; set; } = 100L * 1024 * 1024;
}
