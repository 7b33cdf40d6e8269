namespace CachePatterns.Providers;

/// <summary>What a <see cref="CacheInvalidation"/> received from another process invalidates.</summary>
public enum CacheInvalidationKind
{
    /// <summary>One key: <see cref="CacheInvalidation.Value"/> is the store key (key prefix + formatted key).</summary>
    Key = 0,

    /// <summary>Every entry carrying a tag: <see cref="CacheInvalidation.Value"/> is the tag (reserved for tag invalidation).</summary>
    Tag = 1,

    /// <summary>Everything (the server was flushed, or the sender cannot say what changed).</summary>
    All = 2,
}
