using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace CachePatterns.Serialization.Internal;

/// <summary>
/// Writes the value's type name before its bytes, and refuses bytes written for another type. The ad-hoc
/// <see cref="ICache"/> keeps every value type under one key namespace (so <see cref="ICache.RemoveAsync"/> removes a
/// key whatever its type, in every process); this keeps a value stored as one type from being read silently as
/// another: the mismatch is a corrupt entry (logged, removed, a miss).
/// </summary>
internal sealed class TypeTaggedSerializer<T> : ICacheSerializer<T>
{
    private static readonly byte[] Tag = Encoding.UTF8.GetBytes(typeof(T).FullName ?? typeof(T).Name);

    private readonly ICacheSerializer<T> _inner;

    public TypeTaggedSerializer(ICacheSerializer<T> inner) => _inner = inner;

    public void Serialize(T value, IBufferWriter<byte> target)
    {
        var header = target.GetSpan(2 + Tag.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header, checked((ushort)Tag.Length));
        Tag.CopyTo(header[2..]);
        target.Advance(2 + Tag.Length);
        _inner.Serialize(value, target);
    }

    public T Deserialize(ReadOnlySequence<byte> source)
    {
        Span<byte> length = stackalloc byte[2];
        if (source.Length < 2)
        {
            throw new InvalidDataException($"The ad-hoc cache entry has no value type tag; expected {typeof(T).FullName}.");
        }

        source.Slice(0, 2).CopyTo(length);
        var tagLength = BinaryPrimitives.ReadUInt16LittleEndian(length);
        if (source.Length < 2 + tagLength || !source.Slice(2, tagLength).ToArray().AsSpan().SequenceEqual(Tag))
        {
            var found = source.Length < 2 + tagLength ? "a truncated tag" : Encoding.UTF8.GetString(source.Slice(2, tagLength));
            throw new InvalidDataException($"The ad-hoc cache key holds a value of type {found}, not {typeof(T).FullName}: two value types share one ICache key.");
        }

        return _inner.Deserialize(source.Slice(2 + tagLength));
    }
}
