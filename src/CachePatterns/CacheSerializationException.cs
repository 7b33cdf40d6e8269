namespace CachePatterns;

/// <summary>
/// A value its serializer could not write (for example a type System.Text.Json cannot serialize, or an object cycle). It
/// is a bad value, not a cache failure: it never counts toward the circuit breaker. A strategy logs it and returns the
/// loaded or written value without caching it; <see cref="ICache.SetAsync{TValue}(string, TValue, CacheEntryOptions?, CancellationToken)"/>
/// throws it.
/// </summary>
public sealed class CacheSerializationException : ArgumentException
{
    /// <summary>Initializes a new instance of the <see cref="CacheSerializationException"/> class.</summary>
    public CacheSerializationException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheSerializationException"/> class.</summary>
    /// <param name="message">The message.</param>
    public CacheSerializationException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheSerializationException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The serializer's exception.</param>
    public CacheSerializationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CacheSerializationException"/> class.</summary>
    /// <param name="valueType">The type of the value that could not be serialized.</param>
    /// <param name="innerException">The serializer's exception.</param>
    public CacheSerializationException(Type valueType, Exception innerException)
        : base($"A {valueType?.FullName} value could not be serialized for the cache: {innerException?.Message}", "value", innerException)
    {
        ValueType = valueType;
    }

    /// <summary>Gets the type of the value that could not be serialized.</summary>
    public Type? ValueType { get; }
}
