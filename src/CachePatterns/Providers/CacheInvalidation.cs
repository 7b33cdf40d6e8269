namespace CachePatterns.Providers;

/// <summary>An invalidation published by a process sharing the provider, received through <see cref="ICacheInvalidationSource"/>.</summary>
/// <param name="Kind">What is invalidated.</param>
/// <param name="Value">
/// For <see cref="CacheInvalidationKind.Key"/>: the store key, <see cref="CacheStoreDescriptor{TKey, TValue}.KeyPrefix"/>
/// followed by the formatted key, without the provider's own instance prefix. For <see cref="CacheInvalidationKind.Tag"/>:
/// the tag. Empty for <see cref="CacheInvalidationKind.All"/>.
/// </param>
/// <param name="Delay">
/// How long after the change on the server the message was received, measured on the server's clock where the provider can
/// (Redis: the script's <c>TIME</c> against this client's estimate of it); <see langword="null"/> when it cannot tell.
/// </param>
public readonly record struct CacheInvalidation(CacheInvalidationKind Kind, string Value, TimeSpan? Delay);
