using System.Buffers;

namespace CachePatterns.Serialization;

/// <summary>
/// Stores a <see cref="byte"/> array as it is: no JSON, no base64 (which would add a third). The
/// <c>IDistributedCache</c> registered by <c>AddDistributedCache</c> always uses it.
/// </summary>
public sealed class ByteArrayCacheSerializer : ICacheSerializer<byte[]>
{
    /// <summary>Gets the shared instance (it holds no state).</summary>
    public static ByteArrayCacheSerializer Instance { get; } = new();

    /// <inheritdoc/>
    public void Serialize(byte[] value, IBufferWriter<byte> target)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(target);
        target.Write(value);
    }

    /// <inheritdoc/>
    public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();
}
