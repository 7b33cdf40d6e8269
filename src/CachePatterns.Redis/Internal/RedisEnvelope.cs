using System.Buffers;
using System.Buffers.Binary;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The stored form of an entry: a 34-byte header then the serializer's payload. Little-endian:
/// <c>[0] format version (1)</c>, <c>[1] flags (bit 0: negative entry, no payload)</c>,
/// <c>[2..9] logical expiry, Redis server time in Unix ms (0: none)</c>, <c>[10..17] sliding window ms (0: none)</c>,
/// <c>[18..25] absolute deadline, server Unix ms (0: none)</c>, <c>[26..33] fail-safe retention ms</c>.
/// The header is written by the scripts (they read the server's clock); clients send only the payload. This class is the
/// one description of the layout: the scripts get it from <see cref="LuaDefinitions"/>, never by repeating it.
/// </summary>
internal static class RedisEnvelope
{
    public const byte FormatVersion = 1;

    public const int HeaderLength = 34;

    /// <summary>The largest payload: Redis's largest string (<c>proto-max-bulk-len</c>, 512 MiB) less the header.</summary>
    public const int MaxPayloadBytes = (512 * 1024 * 1024) - HeaderLength;

    public const byte NegativeFlag = 1;

    /// <summary>
    /// Flag bit 1: the entry carries tags. A tag section follows the header, before the payload:
    /// <c>[i8 tag stamp][u16 count]</c> then per tag <c>[u16 byte length][UTF-8]</c> (<see cref="RedisTags.EncodeSection"/>).
    /// </summary>
    public const byte TaggedFlag = 2;

    /// <summary>Byte offset of the logical expiry (the only field a script rewrites in place, to renew a sliding entry).</summary>
    public const int ExpiresOffset = 2;

    /// <summary>Byte offset of the sliding window.</summary>
    public const int SlidingOffset = 10;

    /// <summary>Byte offset of the absolute deadline.</summary>
    public const int DeadlineOffset = 18;

    /// <summary>
    /// The header's Lua <c>struct</c> format (version, flags, expiry, sliding, deadline, retention) and the constants the
    /// scripts use, as Lua locals: <c>ENVELOPE</c>, <c>ENVELOPE_VERSION</c>, <c>HEADER_LENGTH</c>, <c>EXPIRES_OFFSET</c>.
    /// </summary>
    public static readonly string LuaDefinitions =
        $"local ENVELOPE, ENVELOPE_VERSION, HEADER_LENGTH, EXPIRES_OFFSET, TAGGED_FLAG = '<BBi8i8i8i8', {FormatVersion}, {HeaderLength}, {ExpiresOffset}, {TaggedFlag}\n";

    /// <summary>Checks a stored entry and returns its payload, or an error message for a corrupt one.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> stored, out bool negative, out ReadOnlySequence<byte> payload, out string? error)
    {
        negative = false;
        payload = default;
        var header = stored.Span;
        if (stored.Length < HeaderLength)
        {
            error = $"the entry is {stored.Length} bytes, shorter than the {HeaderLength}-byte envelope header";
            return false;
        }

        if (header[0] != FormatVersion)
        {
            error = $"the envelope's format version is {header[0]}, not {FormatVersion}";
            return false;
        }

        var flags = header[1];
        if ((flags & ~(NegativeFlag | TaggedFlag)) != 0)
        {
            error = $"the envelope has unknown flags 0x{flags:x2}";
            return false;
        }

        var payloadStart = HeaderLength;
        if ((flags & TaggedFlag) != 0 && !RedisTags.TrySkipSection(stored.Span, out payloadStart))
        {
            error = "the envelope's tag section is truncated";
            return false;
        }

        negative = (flags & NegativeFlag) != 0;
        if (negative && stored.Length != payloadStart)
        {
            error = "a negative entry carries a payload";
            return false;
        }

        payload = new ReadOnlySequence<byte>(stored[payloadStart..]);
        error = null;
        return true;
    }

    /// <summary>Reads the logical expiry (server Unix ms; 0 for none) of an entry at least <see cref="HeaderLength"/> long.</summary>
    public static long ExpiresAt(ReadOnlySpan<byte> stored) => BinaryPrimitives.ReadInt64LittleEndian(stored[ExpiresOffset..]);

    /// <summary>Reads the sliding window (ms; 0 for none) of an entry at least <see cref="HeaderLength"/> long.</summary>
    public static long SlidingMs(ReadOnlySpan<byte> stored) => BinaryPrimitives.ReadInt64LittleEndian(stored[SlidingOffset..]);

    /// <summary>
    /// How long a copy of a fresh entry may be served (<see cref="Providers.CacheLookup{TValue}.FreshFor"/>), judged at the
    /// estimated server time <paramref name="nowMs"/> with error bound <paramref name="marginMs"/>: the remaining life, and
    /// half the window of a sliding entry (a primary's read renewed it to the whole window, capped by the deadline).
    /// </summary>
    public static TimeSpan FreshFor(ReadOnlySpan<byte> stored, long nowMs, long marginMs)
    {
        var sliding = SlidingMs(stored);
        var deadline = sliding > 0 ? BinaryPrimitives.ReadInt64LittleEndian(stored[DeadlineOffset..]) : ExpiresAt(stored);
        var ms = sliding > 0 ? sliding / 2 : long.MaxValue;
        if (deadline > 0)
        {
            ms = Math.Min(ms, deadline - nowMs - marginMs);
        }

        return ms == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(0, ms));
    }

    /// <summary>Whether an entry at least <see cref="HeaderLength"/> long carries tags.</summary>
    public static bool IsTagged(ReadOnlySpan<byte> stored) => (stored[1] & TaggedFlag) != 0;
}
