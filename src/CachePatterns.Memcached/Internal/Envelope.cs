using System.Buffers;
using System.Buffers.Binary;
using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// The stored value: <c>[version 1][kind: 0 value, 1 not found][absolute deadline, Unix ms, 0 = none][sliding ms, 0 = none][payload]</c>,
/// little-endian. The deadline is the logical expiry: past it the entry is <c>Stale</c> (kept for fail-safe until the
/// physical TTL drops it). Negative entries also carry client flag <see cref="NotFoundFlag"/>.
/// A tagged entry has <see cref="TaggedKind"/> set in its kind, and the tag section (<see cref="CacheTagSection"/>)
/// between the header and the payload.
/// A write marker (kind 2) takes the entry's place while write-throughs of the key are in flight:
/// <c>[version 1][kind 2][writers in flight][token of the latest write, 0 once writes overlapped]</c>.
/// </summary>
internal static class Envelope
{
    public const int HeaderBytes = 18;
    public const uint NotFoundFlag = 1;
    private const byte Version = 1;
    private const byte MarkerKind = 2;

    /// <summary>The bit of the kind byte that says a tag section follows the header.</summary>
    private const byte TaggedKind = 0x10;

    public static byte[] Write<TValue>(
        CacheValue<TValue> value,
        Serialization.ICacheSerializer<TValue> serializer,
        long deadlineMs,
        long slidingMs,
        long tagStamp = 0,
        IReadOnlyCollection<string>? tags = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var header = buffer.GetSpan(HeaderBytes);
        header[0] = Version;
        header[1] = (byte)((value.Exists ? 0 : 1) | (tags is { Count: > 0 } ? TaggedKind : 0));
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], deadlineMs);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], slidingMs);
        buffer.Advance(HeaderBytes);
        if (tags is { Count: > 0 })
        {
            buffer.Advance(CacheTagSection.Write(tagStamp, tags, buffer.GetSpan(CacheTagSection.LengthOf(tags))));
        }

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

    /// <summary>Reads an entry; <paramref name="tags"/> receives its tags (none for an untagged entry) and their stamp.</summary>
    public static (CacheValue<TValue> Value, long DeadlineMs, long SlidingMs, long TagStamp) Read<TValue>(byte[] bytes, Serialization.ICacheSerializer<TValue> serializer, List<string> tags)
    {
        var kind = bytes.Length >= HeaderBytes ? bytes[1] & ~TaggedKind : -1;
        if (bytes.Length < HeaderBytes || bytes[0] != Version || kind is < 0 or > 1)
        {
            throw new FormatException($"The memcached entry is not a CachePatterns envelope (length {bytes.Length}, version {(bytes.Length > 0 ? bytes[0] : -1)}).");
        }

        var deadline = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2));
        var sliding = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10));
        var payloadStart = HeaderBytes;
        long stamp = 0;
        if ((bytes[1] & TaggedKind) != 0)
        {
            if (!CacheTagSection.TryRead(bytes.AsSpan(HeaderBytes), out stamp, tags, out var length) || tags.Count == 0)
            {
                throw new FormatException($"The memcached entry's tag section is truncated (length {bytes.Length}).");
            }

            payloadStart += length;
        }

        if (kind == 1)
        {
            return (CacheValue<TValue>.NotFound, deadline, sliding, stamp);
        }

        var value = serializer.Deserialize(new ReadOnlySequence<byte>(bytes, payloadStart, bytes.Length - payloadStart));
        return (CacheValue<TValue>.Of(value), deadline, sliding, stamp);
    }
}
