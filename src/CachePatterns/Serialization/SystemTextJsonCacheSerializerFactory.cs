using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CachePatterns.Serialization;

/// <summary>
/// Creates <see cref="SystemTextJsonCacheSerializer{T}"/> instances. Pass options whose
/// <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated context to avoid reflection.
/// </summary>
public sealed class SystemTextJsonCacheSerializerFactory : ICacheSerializerFactory
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Initializes a new instance of the <see cref="SystemTextJsonCacheSerializerFactory"/> class.</summary>
    /// <param name="options">The JSON options; <see langword="null"/> uses the web defaults with reflection-based metadata.</param>
    [RequiresUnreferencedCode("Without a source-generated TypeInfoResolver, JSON metadata is built by reflection.")]
    [RequiresDynamicCode("Without a source-generated TypeInfoResolver, JSON metadata is built by reflection.")]
    public SystemTextJsonCacheSerializerFactory(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        _options.TypeInfoResolver ??= new DefaultJsonTypeInfoResolver();
        _options.MakeReadOnly();
    }

    /// <summary>
    /// Initializes a new instance of the <see cref="SystemTextJsonCacheSerializerFactory"/> class over source-generated
    /// metadata (for example <c>MyJsonContext.Default</c>): no reflection, trimming and AOT safe.
    /// </summary>
    /// <param name="resolver">The metadata resolver; types it does not know are left to the next factory.</param>
    public SystemTextJsonCacheSerializerFactory(IJsonTypeInfoResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = resolver };
        _options.MakeReadOnly();
    }

    /// <inheritdoc/>
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out ICacheSerializer<T>? serializer)
    {
        if (_options.TryGetTypeInfo(typeof(T), out var info) && info is JsonTypeInfo<T> typed)
        {
            serializer = new SystemTextJsonCacheSerializer<T>(typed);
            return true;
        }

        serializer = null;
        return false;
    }
}
