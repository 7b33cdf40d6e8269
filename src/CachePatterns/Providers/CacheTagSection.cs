using System.Buffers.Binary;
using System.Text;

namespace CachePatterns.Providers;

/// <summary>
/// The stored form of an entry's tags, for remote providers: <c>[i8 tag stamp][u16 count]</c> then per tag
/// <c>[u16 byte length][UTF-8]</c>, little-endian, placed by a provider in its envelope before the payload. One encoding
/// for every provider (the Redis scripts parse it too: docs/providers.md, "Tags").
/// </summary>
public static class CacheTagSection
{
    /// <summary>The length of the fixed part (stamp and count).</summary>
    public const int FixedLength = 10;

    /// <summary>The encoded length of a section.</summary>
    /// <param name="tags">The tags.</param>
    /// <returns>The number of bytes <see cref="Write"/> writes.</returns>
    public static int LengthOf(IReadOnlyCollection<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var length = FixedLength;
        foreach (var tag in tags)
        {
            length += 2 + Encoding.UTF8.GetByteCount(tag);
        }

        return length;
    }

    /// <summary>Writes a section.</summary>
    /// <param name="stamp">The entry's tag stamp.</param>
    /// <param name="tags">The tags (validated: at most <see cref="CacheTags.MaxLength"/> characters each).</param>
    /// <param name="destination">At least <see cref="LengthOf"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    public static int Write(long stamp, IReadOnlyCollection<string> tags, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tags);
        BinaryPrimitives.WriteInt64LittleEndian(destination, stamp);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], checked((ushort)tags.Count));
        var at = FixedLength;
        foreach (var tag in tags)
        {
            var written = Encoding.UTF8.GetBytes(tag, destination[(at + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], checked((ushort)written));
            at += 2 + written;
        }

        return at;
    }

    /// <summary>Reads a section at the start of <paramref name="source"/>.</summary>
    /// <param name="source">The bytes from the section's start.</param>
    /// <param name="stamp">The entry's tag stamp.</param>
    /// <param name="tags">The tags; <see langword="null"/> to only measure the section.</param>
    /// <param name="length">The section's length (the payload starts there).</param>
    /// <returns><see langword="false"/> when the section is truncated (a corrupt entry).</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out long stamp, ICollection<string>? tags, out int length)
    {
        length = 0;
        stamp = 0;
        if (source.Length < FixedLength)
        {
            return false;
        }

        stamp = BinaryPrimitives.ReadInt64LittleEndian(source);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(source[8..]);
        var at = FixedLength;
        for (var i = 0; i < count; i++)
        {
            if (source.Length < at + 2)
            {
                return false;
            }

            int tagLength = BinaryPrimitives.ReadUInt16LittleEndian(source[at..]);
            at += 2;
            if (source.Length < at + tagLength)
            {
                return false;
            }

            tags?.Add(Encoding.UTF8.GetString(source.Slice(at, tagLength)));
            at += tagLength;
        }

        length = at;
        return true;
    }
}
