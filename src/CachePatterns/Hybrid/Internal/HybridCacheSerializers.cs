using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using CachePatterns.Serialization;
using CachePatterns.Serialization.Internal;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Hybrid.Internal;

/// <summary>
/// The serializers of the <see cref="HybridCache"/> adapter, chosen the HybridCache way: an
/// <see cref="IHybridCacheSerializer{T}"/> registered in DI for the type, else the last registered
/// <see cref="IHybridCacheSerializerFactory"/> that accepts it, else the cache's own serializer factories and
/// System.Text.Json. Every one is wrapped in the payload limit.
/// </summary>
internal sealed class HybridCacheSerializers(IServiceProvider services, IReadOnlyList<ICacheSerializerFactory> cacheFactories, long maximumPayloadBytes)
    : ICacheSerializerFactory
{
    private readonly IHybridCacheSerializerFactory[] _hybridFactories = [.. services.GetServices<IHybridCacheSerializerFactory>().Reverse()];

    public bool TryCreateSerializer<T>([NotNullWhen(true)] out ICacheSerializer<T>? serializer)
    {
        ICacheSerializer<T> inner = new LazyCacheSerializer<T>(cacheFactories);
        if (services.GetService<IHybridCacheSerializer<T>>() is { } registered)
        {
            inner = new HybridSerializer<T>(registered);
        }
        else
        {
            foreach (var factory in _hybridFactories)
            {
                if (factory.TryCreateSerializer<T>(out var created))
                {
                    inner = new HybridSerializer<T>(created);
                    break;
                }
            }
        }

        serializer = new PayloadLimitSerializer<T>(inner, maximumPayloadBytes);
        return true;
    }

    /// <summary>An <see cref="IHybridCacheSerializer{T}"/> as an <see cref="ICacheSerializer{T}"/>.</summary>
    private sealed class HybridSerializer<T>(IHybridCacheSerializer<T> inner) : ICacheSerializer<T>
    {
        public void Serialize(T value, IBufferWriter<byte> target) => inner.Serialize(value, target);

        public T Deserialize(ReadOnlySequence<byte> source) => inner.Deserialize(source);
    }

    /// <summary>
    /// Refuses a value whose serialized form exceeds the limit with <see cref="CacheValueTooLargeException"/> (the
    /// strategy logs it and does not cache the value). Serializes into its own buffer first, so nothing partial reaches
    /// the provider's.
    /// </summary>
    private sealed class PayloadLimitSerializer<T>(ICacheSerializer<T> inner, long limit) : ICacheSerializer<T>
    {
        public void Serialize(T value, IBufferWriter<byte> target)
        {
            // The inner serializer throws a value it cannot write as CacheSerializationException (a bad value: logged and
            // not cached, counted neither toward the circuit breaker nor as a fenced fill, which would load again).
            var buffer = new ArrayBufferWriter<byte>();
            inner.Serialize(value, buffer);

            if (buffer.WrittenCount > limit)
            {
                throw new CacheValueTooLargeException(
                    $"The serialized {typeof(T).Name} is {buffer.WrittenCount} bytes, above CachePatternsHybridCacheOptions.MaximumPayloadBytes = {limit}.");
            }

            target.Write(buffer.WrittenSpan);
        }

        public T Deserialize(ReadOnlySequence<byte> source) => inner.Deserialize(source);
    }
}
