using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace CachePatterns.Serialization.Internal;

/// <summary>
/// Picks the serializer of a type on first use, so types that an in-process provider never serializes
/// need no serializer at all. Factories are asked in order; System.Text.Json is the fallback. A value the serializer
/// cannot write is a <see cref="CacheSerializationException"/>.
/// </summary>
internal sealed class LazyCacheSerializer<T> : ICacheSerializer<T>
{
    private readonly IReadOnlyList<ICacheSerializerFactory> _factories;
    private ICacheSerializer<T>? _serializer;

    public LazyCacheSerializer(IReadOnlyList<ICacheSerializerFactory> factories) => _factories = factories;

    public void Serialize(T value, IBufferWriter<byte> target)
    {
        try
        {
            Resolve().Serialize(value, target);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            // Thrown as a bad value: providers pass it through unclassified, so a type that cannot be serialized never
            // counts toward the circuit breaker (which would take the cache away from every other key).
            throw new CacheSerializationException(typeof(T), ex);
        }
    }

    public T Deserialize(ReadOnlySequence<byte> source) => Resolve().Deserialize(source);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection-based JSON is the documented fallback; register a source-generated factory for trimmed apps.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reflection-based JSON is the documented fallback; register a source-generated factory for AOT apps.")]
    private ICacheSerializer<T> Resolve()
    {
        if (_serializer is { } s)
        {
            return s;
        }

        foreach (var factory in _factories)
        {
            if (factory.TryCreateSerializer<T>(out var created))
            {
                return _serializer = created;
            }
        }

        if (new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<T>(out var json))
        {
            return _serializer = json;
        }

        throw new InvalidOperationException($"No cache serializer handles {typeof(T).FullName}: register an ICacheSerializerFactory for it.");
    }
}
