using CachePatterns.Serialization;

namespace CachePatterns.Providers;

/// <summary>Describes the store of one strategy to the provider that creates it.</summary>
/// <typeparam name="TKey">The type of the key.</typeparam>
/// <typeparam name="TValue">The type of the value.</typeparam>
public sealed class CacheStoreDescriptor<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Initializes a new instance of the <see cref="CacheStoreDescriptor{TKey, TValue}"/> class.</summary>
    /// <param name="name">The strategy's name (metrics, logs).</param>
    /// <param name="keyPrefix">The namespace of the store's keys in a shared key space.</param>
    /// <param name="serializer">Turns values into bytes for out-of-process providers.</param>
    /// <param name="keyFormatter">Turns keys into strings for out-of-process providers; <see langword="null"/> uses <see cref="object.ToString"/> (invariant culture).</param>
    public CacheStoreDescriptor(string name, string keyPrefix, ICacheSerializer<TValue> serializer, Func<TKey, string>? keyFormatter = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(serializer);
        Name = name;
        KeyPrefix = keyPrefix;
        Serializer = serializer;
        KeyFormatter = keyFormatter ?? DefaultKeyFormatter;
    }

    /// <summary>Gets the strategy's name.</summary>
    public string Name { get; }

    /// <summary>Gets the namespace of the store's keys.</summary>
    public string KeyPrefix { get; }

    /// <summary>Gets the value serializer.</summary>
    public ICacheSerializer<TValue> Serializer { get; }

    /// <summary>Gets the key formatter.</summary>
    public Func<TKey, string> KeyFormatter { get; }

    /// <summary>Gets the observer the store reports evictions and corrupt entries to.</summary>
    public ICacheStoreObserver? Observer { get; init; }

    /// <summary>Gets an optional function estimating a value's size in bytes, for size-bounded in-memory stores.</summary>
    public Func<TValue, long>? SizeOf { get; init; }

    /// <summary>
    /// Gets the most entries this store may hold, overriding the provider's per-store bound; <see langword="null"/> for
    /// the provider's. Only providers that bound each store themselves (in-memory) use it.
    /// </summary>
    public int? MaxEntries { get; init; }

    /// <summary>
    /// Gets the most bytes this store may hold, overriding the provider's per-store bound; <see langword="null"/> for the
    /// provider's. Only providers that bound each store themselves (in-memory) use it.
    /// </summary>
    public long? MaxBytes { get; init; }

    /// <summary>
    /// Gets a value indicating whether every entry of this store carries tags (the <c>HybridCache</c> adapter tags each
    /// entry it writes). A provider that prepares its tag state lazily, on the first tagged entry it sees (memcached
    /// stamps leases only from then on), prepares it from the start, so the first fill is not fenced for want of a stamp.
    /// </summary>
    public bool EntriesCarryTags { get; init; }

    private static string DefaultKeyFormatter(TKey key) =>
        key is IFormattable f ? f.ToString(null, System.Globalization.CultureInfo.InvariantCulture) : key.ToString() ?? string.Empty;
}
