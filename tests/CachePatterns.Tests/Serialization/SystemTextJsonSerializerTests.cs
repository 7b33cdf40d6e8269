using System.Buffers;
using System.Text.Json.Serialization;
using CachePatterns.Serialization;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Serialization;

public sealed record Person(string Name, int Age);

[JsonSerializable(typeof(Person))]
public sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>The default serializer round-trips values, and a source-generated context replaces reflection.</summary>
public sealed class SystemTextJsonSerializerTests
{
    [Fact]
    public void A_source_generated_context_round_trips_its_types_and_declines_others()
    {
        var factory = new SystemTextJsonCacheSerializerFactory(TestJsonContext.Default);

        Assert.True(factory.TryCreateSerializer<Person>(out var serializer));
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(new Person("Ada", 36), buffer);
        Assert.Equal("""{"name":"Ada","age":36}""", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(new Person("Ada", 36), serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory)));

        Assert.False(factory.TryCreateSerializer<Uri>(out _));
    }

    [Fact]
    public async Task Serialized_in_memory_values_use_the_registered_source_generated_factory()
    {
        using var host = TestCacheHost.Create(b => b
            .UseMemoryProvider(o => o.SerializeValues = true)
            .AddSerializerFactory(new SystemTextJsonCacheSerializerFactory(TestJsonContext.Default)));
        var cache = host.Services.GetRequiredService<ICache>();

        await cache.SetAsync("p", new Person("Grace", 85));
        var (found, person) = await cache.TryGetAsync<Person>("p");

        Assert.True(found);
        Assert.Equal(new Person("Grace", 85), person);
    }
}
