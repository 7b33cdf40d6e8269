namespace CachePatterns.Memcached.Internal;

/// <summary>One key's outcome in a multi-get: the reply, or the error of the node that holds the key.</summary>
/// <param name="Response">The reply; <see langword="null"/> when the node failed.</param>
/// <param name="Error">Why the node failed.</param>
internal readonly record struct MultiGetResult(MetaResponse? Response, MemcachedException? Error);
