using System.Buffers;
using System.Globalization;
using System.Text;

namespace CachePatterns.Memcached.Internal;

/// <summary>Parses meta-protocol replies: a header line, then exactly <c>datalen</c> bytes of value for <c>VA</c>.</summary>
internal static class MetaParser
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    /// <summary>Gets a value indicating whether the buffer holds a complete header line.</summary>
    public static bool HeaderComplete(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, CrLf);
    }

    /// <summary>
    /// Reads one reply from the front of <paramref name="buffer"/>. Returns <see langword="false"/> when more bytes are
    /// needed; <paramref name="error"/> is set for <c>ERROR</c>, <c>CLIENT_ERROR</c>, <c>SERVER_ERROR</c> or an unknown reply.
    /// </summary>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out MetaResponse? response, out string? error)
    {
        response = null;
        error = null;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineBytes, CrLf))
        {
            return false;
        }

        var line = Encoding.ASCII.GetString(lineBytes);
        var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
        {
            error = "an empty reply line";
            buffer = buffer.Slice(reader.Position);
            return true;
        }

        MetaStatus status;
        switch (tokens[0])
        {
            case "VA": status = MetaStatus.Value; break;
            case "HD": status = MetaStatus.Stored; break;
            case "EN": status = MetaStatus.Miss; break;
            case "NF": status = MetaStatus.NotFound; break;
            case "NS": status = MetaStatus.NotStored; break;
            case "EX": status = MetaStatus.Exists; break;
            case "MN": status = MetaStatus.NoOp; break;
            default:
                error = line;
                buffer = buffer.Slice(reader.Position);
                return true;
        }

        byte[]? value = null;
        var first = 1;
        if (status == MetaStatus.Value)
        {
            if (tokens.Length < 2 || !int.TryParse(tokens[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                error = "a VA reply without a valid length: " + line;
                buffer = buffer.Slice(reader.Position);
                return true;
            }

            if (reader.Remaining < length + 2L)
            {
                return false;
            }

            value = new byte[length];
            reader.TryCopyTo(value);
            reader.Advance(length);
            if (!reader.IsNext(CrLf, advancePast: true))
            {
                error = "a value not followed by CRLF: " + line;
                buffer = buffer.Slice(reader.Position);
                return true;
            }

            first = 2;
        }

        ulong cas = 0;
        uint flags = 0;
        long ttl = -1;
        uint? opaque = null;
        bool won = false, stale = false, held = false;
        for (var i = first; i < tokens.Length; i++)
        {
            var token = tokens[i];
            var argument = token.AsSpan(1);
            switch (token[0])
            {
                case 'c': cas = ulong.Parse(argument, NumberStyles.None, CultureInfo.InvariantCulture); break;
                case 'f': flags = uint.Parse(argument, NumberStyles.None, CultureInfo.InvariantCulture); break;
                case 't': ttl = long.Parse(argument, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture); break;
                case 'O': opaque = uint.Parse(argument, NumberStyles.None, CultureInfo.InvariantCulture); break;
                case 'W': won = true; break;
                case 'X': stale = true; break;
                case 'Z': held = true; break;
                default: break;
            }
        }

        response = new MetaResponse
        {
            Status = status,
            Value = value,
            Cas = cas,
            ClientFlags = flags,
            Ttl = ttl,
            Opaque = opaque,
            Won = won,
            IsStale = stale,
            LeaseHeldElsewhere = held,
        };
        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
