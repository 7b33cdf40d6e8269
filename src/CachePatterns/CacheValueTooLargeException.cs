namespace CachePatterns;

/// <summary>A value is larger than the provider or the configuration allows.</summary>
public sealed class CacheValueTooLargeException : ArgumentException
{
    /// <summary>Initializes a new instance of the <see cref="CacheValueTooLargeException"/> class.</summary>
    public CacheValueTooLargeException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheValueTooLargeException"/> class.</summary>
    /// <param name="message">The message.</param>
    public CacheValueTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheValueTooLargeException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CacheValueTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheValueTooLargeException"/> class.</summary>
    /// <param name="key">The key as the provider stores it.</param>
    /// <param name="size">The value's size in bytes.</param>
    /// <param name="limit">The limit in bytes.</param>
    public CacheValueTooLargeException(string key, long size, long limit)
        : base($"The value for cache key '{Truncate(key)}' is {size} bytes, over the limit of {limit} bytes.", "value")
    {
        Key = key;
        Size = size;
        Limit = limit;
    }

    /// <summary>Gets the key as the provider stores it.</summary>
    public string? Key { get; }

    /// <summary>Gets the value's size in bytes.</summary>
    public long Size { get; }

    /// <summary>Gets the limit in bytes.</summary>
    public long Limit { get; }

    private static string Truncate(string key) => key.Length <= 100 ? key : string.Concat(key.AsSpan(0, 100), "…");
}
