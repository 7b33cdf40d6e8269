using System.Buffers;
using System.Buffers.Text;
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
    /// The header is parsed as bytes (no strings on the hot path).
    /// </summary>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out MetaResponse? response, out string? error)
    {
        response = null;
        error = null;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySpan<byte> line, CrLf))
        {
            return false;
        }

        MetaStatus status;
        if (line.Length < 2 || (line.Length > 2 && line[2] != (byte)' '))
        {
            return Fail(ref buffer, reader, line, out error);
        }

        switch (line[0] << 8 | line[1])
        {
            case 'V' << 8 | 'A': status = MetaStatus.Value; break;
            case 'H' << 8 | 'D': status = MetaStatus.Stored; break;
            case 'E' << 8 | 'N': status = MetaStatus.Miss; break;
            case 'N' << 8 | 'F': status = MetaStatus.NotFound; break;
            case 'N' << 8 | 'S': status = MetaStatus.NotStored; break;
            case 'E' << 8 | 'X': status = MetaStatus.Exists; break;
            case 'M' << 8 | 'N': status = MetaStatus.NoOp; break;
            default: return Fail(ref buffer, reader, line, out error);
        }

        var rest = line.Length > 3 ? line[3..] : [];
        byte[]? value = null;
        if (status == MetaStatus.Value)
        {
            var token = NextToken(ref rest);
            if (!Utf8Parser.TryParse(token, out int length, out var used) || used != token.Length || length < 0)
            {
                error = "a VA reply without a valid length: " + Encoding.ASCII.GetString(line);
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
                error = "a value not followed by CRLF: " + Encoding.ASCII.GetString(line);
                buffer = buffer.Slice(reader.Position);
                return true;
            }
        }

        ulong cas = 0;
        uint flags = 0;
        long ttl = -1;
        uint? opaque = null;
        bool won = false, stale = false, held = false;
        while (rest.Length > 0)
        {
            var token = NextToken(ref rest);
            if (token.IsEmpty)
            {
                continue;
            }

            var argument = token[1..];
            var ok = true;
            switch (token[0])
            {
                case (byte)'c': ok = Utf8Parser.TryParse(argument, out cas, out _); break;
                case (byte)'f': ok = Utf8Parser.TryParse(argument, out flags, out _); break;
                case (byte)'t': ok = Utf8Parser.TryParse(argument, out ttl, out _); break;
                case (byte)'O':
                    ok = Utf8Parser.TryParse(argument, out uint o, out _);
                    opaque = o;
                    break;
                case (byte)'W': won = true; break;
                case (byte)'X': stale = true; break;
                case (byte)'Z': held = true; break;
                default: break;
            }

            if (!ok)
            {
                error = "a reply flag that is not a number: " + Encoding.ASCII.GetString(line);
                buffer = buffer.Slice(reader.Position);
                return true;
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

    private static ReadOnlySpan<byte> NextToken(ref ReadOnlySpan<byte> rest)
    {
        var space = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> token;
        if (space < 0)
        {
            token = rest;
            rest = [];
        }
        else
        {
            token = rest[..space];
            rest = rest[(space + 1)..];
        }

        return token;
    }

    private static bool Fail(ref ReadOnlySequence<byte> buffer, SequenceReader<byte> reader, ReadOnlySpan<byte> line, out string? error)
    {
        error = line.IsEmpty ? "an empty reply line" : Encoding.ASCII.GetString(line);
        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
