namespace CachePatterns.NearCache.Internal;

/// <summary>One strategy's near cache as its <see cref="NearCacheCoordinator"/> sees it.</summary>
internal interface INearCacheTarget
{
    /// <summary>Gets the strategy's name (the <c>cache.name</c> tag).</summary>
    string Name { get; }

    /// <summary>Gets the store's key prefix: invalidations of store keys starting with it are this target's.</summary>
    string KeyPrefix { get; }

    /// <summary>Drops the copy of one key named by its store key (key prefix + formatted key) and revokes its near-cache leases.</summary>
    /// <returns>Whether the key was known to this near cache (a copy or a read in flight).</returns>
    bool Invalidate(string storeKey);

    /// <summary>
    /// Drops the copies carrying <paramref name="tag"/> and refuses copies in flight whose entry carries it; when the near
    /// cache cannot tell which copies carry it (its tag index overflowed), drops every copy instead.
    /// </summary>
    /// <returns>False when every copy was dropped (counted as a flush).</returns>
    bool InvalidateTag(string tag);

    /// <summary>Drops every copy and revokes every near-cache lease.</summary>
    void Flush();
}
