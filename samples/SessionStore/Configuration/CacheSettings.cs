namespace SessionStore.Configuration;

/// <summary>The cache provider: in memory unless <see cref="Redis"/> or <see cref="Memcached"/> is set.</summary>
public sealed class CacheSettings
{
    /// <summary>Gets or sets a StackExchange.Redis configuration string (<c>127.0.0.1:6379</c>); selects Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>Gets or sets memcached servers, comma-separated <c>host:port[:weight]</c>; selects Memcached.</summary>
    public string? Memcached { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether, on Redis, the catalogue is also kept in each instance's memory (the near
    /// cache, <see cref="CatalogueNearCache"/>). Default: <see langword="true"/>.
    /// </summary>
    public bool NearCache { get; set; } = true;

    /// <summary>Gets or sets the key namespace in a shared Redis or memcached, so other apps' keys never collide.</summary>
    public string InstanceName { get; set; } = "sessionstore:";

    /// <summary>Gets or sets the in-memory provider's bound per entity type (catalogue, orders, signed-in sessions).</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the in-memory bound of anonymous sessions, kept apart from signed-in ones: a flood of anonymous
    /// sessions evicts only anonymous sessions.
    /// </summary>
    public int MaxAnonymousSessions { get; set; } = 10_000;
}
