using BitFaster.Caching;
using BitFaster.Caching.Lru;

namespace CachePatterns.Memory.Internal;

/// <summary>
/// The LRU's telemetry policy: removal and update events (the store's byte accounting and eviction counts need them), no
/// hit or miss counters. BitFaster's <see cref="TelemetryPolicy{K, V}"/> is the only built-in policy with events, and it
/// counts every hit with an interlocked add, a cost on each hit that nothing here reads (hits are counted by the
/// strategies' own metrics). docs/benchmarks.md, "HybridCache implementations side by side".
/// </summary>
internal struct EventsOnlyTelemetry<TKey, TValue> : ITelemetryPolicy<TKey, TValue>
    where TKey : notnull
{
    private object? _source;

    public event EventHandler<ItemRemovedEventArgs<TKey, TValue>>? ItemRemoved;

    public event EventHandler<ItemUpdatedEventArgs<TKey, TValue>>? ItemUpdated;

    /// <summary>Not counted: always 0.</summary>
    public readonly double HitRatio => 0;

    /// <summary>Not counted: always 0.</summary>
    public readonly long Total => 0;

    /// <summary>Not counted: always 0.</summary>
    public readonly long Hits => 0;

    /// <summary>Not counted: always 0.</summary>
    public readonly long Misses => 0;

    /// <summary>Not counted: always 0 (the store counts evictions through <see cref="ItemRemoved"/>).</summary>
    public readonly long Evicted => 0;

    /// <summary>Not counted: always 0.</summary>
    public readonly long Updated => 0;

    public readonly void IncrementMiss()
    {
    }

    public readonly void IncrementHit()
    {
    }

    public readonly void OnItemRemoved(TKey key, TValue value, ItemRemovedReason reason) =>
        ItemRemoved?.Invoke(_source, new ItemRemovedEventArgs<TKey, TValue>(key, value, reason));

    public readonly void OnItemUpdated(TKey key, TValue oldValue, TValue value) =>
        ItemUpdated?.Invoke(_source, new ItemUpdatedEventArgs<TKey, TValue>(key, oldValue, value));

    public void SetEventSource(object source) => _source = source;
}
