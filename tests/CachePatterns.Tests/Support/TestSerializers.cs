using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using CachePatterns.Serialization;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A UTF-8 string serializer whose <see cref="Deserialize"/> throws for values starting with <see cref="CorruptMarker"/>,
/// standing in for bytes that cannot be read back (a changed schema, a truncated payload).
/// </summary>
public sealed class MarkedStringSerializer : ICacheSerializer<string>
{
    public const string CorruptMarker = "CORRUPT";

    private int _deserializations;

    public int Deserializations => Volatile.Read(ref _deserializations);

    public void Serialize(string value, IBufferWriter<byte> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Write(Encoding.UTF8.GetBytes(value));
    }

    public string Deserialize(ReadOnlySequence<byte> source)
    {
        Interlocked.Increment(ref _deserializations);
        var text = Encoding.UTF8.GetString(source);
        if (text.StartsWith(CorruptMarker, StringComparison.Ordinal))
        {
            throw new FormatException($"Unreadable payload '{text}'.");
        }

        return text;
    }
}

/// <summary>Hands out one <see cref="MarkedStringSerializer"/> for strings and declines every other type.</summary>
public sealed class MarkedStringSerializerFactory : ICacheSerializerFactory
{
    public MarkedStringSerializer Serializer { get; } = new();

    public bool TryCreateSerializer<T>([NotNullWhen(true)] out ICacheSerializer<T>? serializer)
    {
        serializer = Serializer as ICacheSerializer<T>;
        return serializer is not null;
    }
}
