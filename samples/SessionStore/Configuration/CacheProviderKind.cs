namespace SessionStore.Configuration;

/// <summary>Where the cache (catalogue and sessions) lives.</summary>
public enum CacheProviderKind
{
    /// <summary>In this process: one instance only (the embedded default).</summary>
    Memory,

    /// <summary>Redis: shared by every instance.</summary>
    Redis,

    /// <summary>Memcached: shared by every instance.</summary>
    Memcached,
}
