using System.Buffers;
using System.Buffers.Binary;
using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// The stored value: <c>[version 1][kind: 0 value, 1 not found][absolute deadline, Unix ms, 0 = none][sliding ms, 0 = none][payload]</c>,
/// little-endian. The deadline is the logical expiry: past it the entry is <c>Stale</c> (kept for fail-safe until the
/// physical TTL drops it). Negative entries also carry client flag <see cref="NotFoundFlag"/>.
/// A write marker (kind 2) takes the entry's place while write-throughs of the key are in flight:
/// <c>[version 1][kind 2][writers in flight][token of the latest write, 0 once writes overlapped]</c>.
/// </summary>
internal static class Envelope
{
    public const int HeaderBytes = 18;
    public const uint NotFoundFlag = 1;
    private const byte Version = 1;
    private const byte MarkerKind = 2;

    public static byte[] Write<TValue>(CacheValue<TValue> value, Serialization.ICacheSerializer<TValue> serializer, long deadlineMs, long slidingMs)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var header = buffer.GetSpan(HeaderBytes);
        header[0] = Version;
        header[1] = value.Exists ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], deadlineMs);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], slidingMs);
        buffer.Advance(HeaderBytes);
        if (value.Exists)
        {
            serializer.Serialize(value.Value!, buffer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] WriteMarker(long writers, long latest)
    {
        var bytes = new byte[HeaderBytes];
        bytes[0] = Version;
        bytes[1] = MarkerKind;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), writers);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(10), latest);
        return bytes;
    }

    public static bool IsMarker(byte[] bytes) => bytes.Length == HeaderBytes && bytes[0] == Version && bytes[1] == MarkerKind;

    public static bool TryReadMarker(byte[]? bytes, out long writers, out long latest)
    {
        if (bytes is null || !IsMarker(bytes))
        {
            writers = latest = 0;
            return false;
        }

        writers = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2));
        latest = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10));
        return true;
    }

    public static (CacheValue<TValue> Value, long DeadlineMs, long SlidingMs) Read<TValue>(byte[] bytes, Serialization.ICacheSerializer<TValue> serializer)
    {
        if (bytes.Length < HeaderBytes || bytes[0] != Version || bytes[1] > 1)
        {
            throw new FormatException($"The memcached entry is not a CachePatterns envelope (length {bytes.Length}, version {(bytes.Length > 0 ? bytes[0] : -1)}).");
        }

        var deadline = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2));
        var sliding = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10));
        if (bytes[1] == 1)
        {
            return (CacheValue<TValue>.NotFound, deadline, sliding);
        }

        var value = serializer.Deserialize(new ReadOnlySequence<byte>(bytes, HeaderBytes, bytes.Length - HeaderBytes));
        return (CacheValue<TValue>.Of(value), deadline, sliding);
    }
}
