using System.Buffers;

namespace CachePatterns.Serialization;

/// <summary>Turns values into bytes and back, for providers that store bytes.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
public interface ICacheSerializer<T>
{
    /// <summary>Writes a value.</summary>
    /// <param name="value">The value.</param>
    /// <param name="target">Where the bytes go.</param>
    void Serialize(T value, IBufferWriter<byte> target);

    /// <summary>Reads a value back.</summary>
    /// <param name="source">The bytes.</param>
    /// <returns>The value.</returns>
    /// <exception cref="Exception">The bytes are not a valid value; the caller treats the entry as corrupt.</exception>
    T Deserialize(ReadOnlySequence<byte> source);
}
