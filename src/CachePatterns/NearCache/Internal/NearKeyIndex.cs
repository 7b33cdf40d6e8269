using System.Collections.Concurrent;

namespace CachePatterns.NearCache.Internal;

/// <summary>
/// Maps the store key an invalidation message names (key prefix + formatted key) back to the <typeparamref name="TKey"/>
/// the near cache is keyed by, so the near cache's hits never format a key. Invariant: every key with a copy in the near
/// cache, or with a near-cache lease outstanding, has an entry here; an entry is removed only while neither is true (and
/// the copy is dropped with it), so an invalidation of such a key always finds it.
/// </summary>
/// <typeparam name="TKey">The type of the key.</typeparam>
internal sealed class NearKeyIndex<TKey>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private int _cleaning;

    public int Count => _entries.Count;

    /// <summary>Registers a read about to take a near-cache lease on <paramref name="key"/>; end it with <see cref="Release"/>.</summary>
    public Entry Acquire(string storeKey, TKey key)
    {
        while (true)
        {
            var entry = _entries.GetOrAdd(storeKey, static (_, k) => new Entry(k), key);
            lock (entry)
            {
                if (!entry.Removed)
                {
                    entry.Pending++;
                    return entry;
                }
            }
        }
    }

    /// <summary>The read's lease was used or given back.</summary>
    public static void Release(Entry entry)
    {
        lock (entry)
        {
            entry.Pending--;
        }
    }

    public bool TryGet(string storeKey, out TKey key)
    {
        if (_entries.TryGetValue(storeKey, out var entry))
        {
            key = entry.Key;
            return true;
        }

        key = default!;
        return false;
    }

    /// <summary>
    /// Removes the entries of keys that have no copy (<paramref name="held"/> is a snapshot taken before) and no lease
    /// outstanding, dropping any copy made since through <paramref name="drop"/>. One cleaner at a time.
    /// </summary>
    public void RemoveIdle(HashSet<TKey> held, Action<TKey> drop)
    {
        if (Interlocked.Exchange(ref _cleaning, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var pair in _entries)
            {
                var entry = pair.Value;
                if (held.Contains(entry.Key))
                {
                    continue;
                }

                lock (entry)
                {
                    if (entry.Pending != 0 || entry.Removed)
                    {
                        continue;
                    }

                    // Filled after the snapshot: drop the copy too, so the invariant holds once the entry is gone.
                    entry.Removed = true;
                    _entries.TryRemove(pair);
                    drop(entry.Key);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _cleaning, 0);
        }
    }

    internal sealed class Entry(TKey key)
    {
        public TKey Key { get; } = key;

        /// <summary>Near-cache leases outstanding for the key (guarded by the entry's lock).</summary>
        public int Pending { get; set; }

        /// <summary>Set once the entry left the index; a reader that finds it so registers a new one.</summary>
        public bool Removed { get; set; }
    }
}
