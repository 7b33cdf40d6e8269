namespace CachePatterns.Providers;

/// <summary>Receives what an <see cref="ICacheInvalidationSource"/> hears. Called on background threads; must be quick and must not throw.</summary>
public interface ICacheInvalidationObserver
{
    /// <summary>A process sharing the provider changed or invalidated something.</summary>
    /// <param name="invalidation">What it invalidated.</param>
    void OnInvalidated(CacheInvalidation invalidation);

    /// <summary>
    /// Invalidations may be missed from now on (the subscription's connection was lost, the server stopped answering or
    /// restarted): stop using anything that relies on them, until <see cref="OnConnected"/>.
    /// </summary>
    /// <param name="reason">Why, for logs and metrics (for example <c>connection_lost</c>).</param>
    void OnDisconnected(string reason);

    /// <summary>
    /// The subscription is confirmed live: every invalidation published after this call is delivered, until
    /// <see cref="OnDisconnected"/>. Anything published before it may have been missed.
    /// </summary>
    void OnConnected();
}
