namespace CachePatterns.Providers;

/// <summary>
/// Receives what a store sees on its own (evictions, corrupt entries), so the core can count and log it.
/// </summary>
public interface ICacheStoreObserver
{
    /// <summary>Called when entries leave the store for a reason other than an explicit removal.</summary>
    /// <param name="reason">Why the entries left.</param>
    /// <param name="count">How many entries left.</param>
    void OnEvicted(CacheEvictionReason reason, int count);

    /// <summary>Called when an entry could not be read back (it was removed and treated as a miss).</summary>
    /// <param name="key">The key as the provider stores it.</param>
    /// <param name="exception">What went wrong.</param>
    void OnCorruptEntry(string key, Exception exception);
}
