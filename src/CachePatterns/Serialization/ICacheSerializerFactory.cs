using System.Diagnostics.CodeAnalysis;

namespace CachePatterns.Serialization;

/// <summary>Creates serializers for value types; registered in DI, the first that accepts a type wins.</summary>
public interface ICacheSerializerFactory
{
    /// <summary>Creates a serializer for <typeparamref name="T"/> if this factory handles it.</summary>
    /// <typeparam name="T">The type of the value.</typeparam>
    /// <param name="serializer">The serializer.</param>
    /// <returns><see langword="true"/> if a serializer was created.</returns>
    bool TryCreateSerializer<T>([NotNullWhen(true)] out ICacheSerializer<T>? serializer);
}
