using System.Buffers;
using CachePatterns.Serialization;

namespace CachePatterns.Benchmarks;

/// <summary>Stores byte arrays as they are, so a store benchmark measures the provider, not a serializer.</summary>
public sealed class BytesSerializer : ICacheSerializer<byte[]>
{
    public void Serialize(byte[] value, IBufferWriter<byte> target)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(target);
        target.Write(value);
    }

    public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();
}
