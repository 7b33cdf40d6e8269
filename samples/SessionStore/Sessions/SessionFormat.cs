using System.Buffers.Binary;
using System.Text;

namespace SessionStore.Sessions;

/// <summary>
/// The bytes of a session in the cache: a version byte, then each entry as (key length, UTF-8 key, value length, value).
/// Anything else (another version, a truncated entry) is unreadable and reported as such, never half-read.
/// </summary>
public static class SessionFormat
{
    private const byte Version = 1;

    /// <summary>The most bytes a session may take; the cart's own bounds keep it far below.</summary>
    public const int MaxBytes = 256 * 1024;

    public static byte[] Write(IReadOnlyDictionary<string, byte[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var buffer = new MemoryStream();
        buffer.WriteByte(Version);
        Span<byte> length = stackalloc byte[4];
        foreach (var (key, value) in values)
        {
            var keyBytes = Encoding.UTF8.GetBytes(key);
            BinaryPrimitives.WriteInt32LittleEndian(length, keyBytes.Length);
            buffer.Write(length);
            buffer.Write(keyBytes);
            BinaryPrimitives.WriteInt32LittleEndian(length, value.Length);
            buffer.Write(length);
            buffer.Write(value);
        }

        if (buffer.Length > MaxBytes)
        {
            throw new InvalidOperationException($"The session is {buffer.Length} bytes; at most {MaxBytes} are stored.");
        }

        return buffer.ToArray();
    }

    /// <summary>Reads <paramref name="data"/>; false when it is not a session this version can read.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out Dictionary<string, byte[]> values)
    {
        values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (data.IsEmpty || data[0] != Version)
        {
            return false;
        }

        var rest = data[1..];
        while (!rest.IsEmpty)
        {
            if (!TryTake(ref rest, out var key) || !TryTake(ref rest, out var value))
            {
                values.Clear();
                return false;
            }

            values[Encoding.UTF8.GetString(key)] = value.ToArray();
        }

        return true;
    }

    private static bool TryTake(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> item)
    {
        item = default;
        if (rest.Length < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (length < 0 || length > rest.Length - 4)
        {
            return false;
        }

        item = rest.Slice(4, length);
        rest = rest[(4 + length)..];
        return true;
    }
}
