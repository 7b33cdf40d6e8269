namespace CachePatterns.Providers;

/// <summary>
/// A provider's channel of invalidations made by other processes (<see cref="ICacheProvider.Invalidations"/>), which a
/// near cache needs to keep its copies fresh. Delivery may be at-most-once (pub/sub), so the source must say when it may
/// have missed something: <see cref="ICacheInvalidationObserver.OnDisconnected"/>. Changes made through this provider
/// instance are not delivered back to it (the near cache of this process already dropped its copy; an echo would only
/// refuse the copy of a value this process has just stored).
/// </summary>
public interface ICacheInvalidationSource
{
    /// <summary>
    /// Gets a value indicating whether the channel is confirmed live now (the last call made was
    /// <see cref="ICacheInvalidationObserver.OnConnected"/>).
    /// </summary>
    bool IsConnected { get; }

    /// <summary>
    /// Starts delivering to <paramref name="observer"/> (connecting and subscribing lazily if needed). Until
    /// <see cref="ICacheInvalidationObserver.OnConnected"/> is called on it, the observer must assume it misses invalidations.
    /// </summary>
    /// <param name="observer">The observer.</param>
    /// <returns>Stops the delivery when disposed.</returns>
    IDisposable Subscribe(ICacheInvalidationObserver observer);
}
