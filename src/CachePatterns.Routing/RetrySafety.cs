namespace CachePatterns.Routing;

/// <summary>Whether work that failed with a <see cref="RoutingException"/> may be run again.</summary>
public enum RetrySafety
{
    /// <summary>Nothing reached the database, or the work only read: running it again cannot apply a write twice.</summary>
    Safe,

    /// <summary>A write or commit was sent and the connection failed before the answer: it may or may not have been applied.</summary>
    Unknown,
}
