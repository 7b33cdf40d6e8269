using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CachePatterns.Serialization;

/// <summary>The default serializer: System.Text.Json, with source-generated metadata when the options provide it.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class SystemTextJsonCacheSerializer<T> : ICacheSerializer<T>
{
    private readonly JsonTypeInfo<T> _typeInfo;

    /// <summary>Initializes a new instance of the <see cref="SystemTextJsonCacheSerializer{T}"/> class.</summary>
    /// <param name="typeInfo">The type's JSON metadata (for example from a <c>JsonSerializerContext</c>).</param>
    public SystemTextJsonCacheSerializer(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        _typeInfo = typeInfo;
    }

    /// <inheritdoc/>
    public void Serialize(T value, IBufferWriter<byte> target)
    {
        using var writer = new Utf8JsonWriter(target);
        JsonSerializer.Serialize(writer, value, _typeInfo);
    }

    /// <inheritdoc/>
    public T Deserialize(ReadOnlySequence<byte> source)
    {
        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, _typeInfo)!;
    }
}
