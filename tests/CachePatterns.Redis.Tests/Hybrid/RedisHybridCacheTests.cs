using CachePatterns.Hybrid;
using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace CachePatterns.Redis.Tests.Hybrid;

/// <summary>
/// The HybridCache adapter on a real Redis: the conformance tests (each test class instance has its own instance name;
/// a peer container is another client of the same data), and what only an out-of-process provider shows: payload
/// limits, serializers, and one factory run across clients.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisHybridCacheTests(RedisServer redis) : HybridCacheConformance
{
    private readonly string _instance = redis.NewInstanceName();

    protected override bool SerializesValues => true;

    protected override ServiceProvider CreateServices(Action<CachePatternsHybridCacheOptions>? options = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddFakeLogging();
        services?.Invoke(collection);
        collection.AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = _instance;
            })
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddHybridCache(options);
        return collection.BuildServiceProvider();
    }

    protected override ServiceProvider? CreatePeer() => CreateServices();

    [Fact]
    public async Task A_value_above_MaximumPayloadBytes_is_returned_but_not_cached_and_logged()
    {
        await using var services = CreateServices(o => o.MaximumPayloadBytes = 64);
        var cache = services.GetRequiredService<HybridCache>();
        var runs = 0;
        var big = new string('x', 200);

        Assert.Equal(big, await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult(big); }));
        Assert.Equal(big, await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult(big); }));
        Assert.Equal("small", await cache.GetOrCreateAsync("s", _ => ValueTask.FromResult("small")));
        Assert.Equal("small", await cache.GetOrCreateAsync("s", _ => ValueTask.FromResult("other")));

        Assert.Equal(2, runs);
        Assert.Contains(services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("MaximumPayloadBytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SetAsync_of_a_value_above_the_limit_removes_the_older_value_instead_of_leaving_it()
    {
        await using var services = CreateServices(o => o.MaximumPayloadBytes = 64);
        var cache = services.GetRequiredService<HybridCache>();
        await cache.SetAsync("k", "old");

        await cache.SetAsync("k", new string('x', 200));

        Assert.Equal("loaded", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("loaded")));
        Assert.Contains(services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 451);
    }

    [Fact]
    public async Task A_serializer_that_fails_to_write_leaves_the_value_uncached_and_one_that_fails_to_read_is_a_miss()
    {
        var serializer = new FailingSerializer();
        await using var services = CreateServices(services: s => s.AddSingleton<IHybridCacheSerializer<string>>(serializer));
        var cache = services.GetRequiredService<HybridCache>();
        var runs = 0;

        serializer.FailWrites = true;
        Assert.Equal("a", await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult("a"); }));
        Assert.Equal(1, runs);
        serializer.FailWrites = false;
        Assert.Equal("b", await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult("b"); }));
        Assert.Equal(2, runs);
        Assert.Equal("b", await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult("x"); }));
        Assert.Equal(2, runs);
        serializer.FailReads = true;
        Assert.Equal("c", await cache.GetOrCreateAsync("k", _ => { runs++; return ValueTask.FromResult("c"); }));

        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task A_serializer_factory_registered_the_HybridCache_way_is_asked_for_types_without_a_serializer()
    {
        var factory = new CountingFactory();
        await using var services = CreateServices(services: s => s.AddSingleton<IHybridCacheSerializerFactory>(factory));
        var cache = services.GetRequiredService<HybridCache>();

        await cache.SetAsync("k", 42);

        Assert.Equal(42, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(0)));
        Assert.Contains(typeof(int), factory.Asked);
    }

    [Fact]
    public async Task Callers_in_two_clients_share_one_factory_run()
    {
        await using var one = CreateServices();
        await using var two = CreatePeer()!;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        async ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref runs);
            await gate.Task.WaitAsync(ct);
            return "loaded";
        }

        var first = one.GetRequiredService<HybridCache>().GetOrCreateAsync("k", Factory).AsTask();
        await WaitUntilAsync(() => Volatile.Read(ref runs) == 1);
        var second = two.GetRequiredService<HybridCache>().GetOrCreateAsync("k", Factory).AsTask();
        gate.SetResult();

        Assert.Equal(["loaded", "loaded"], await Task.WhenAll(first, second));
        Assert.Equal(1, runs);
    }

    private sealed class FailingSerializer : IHybridCacheSerializer<string>
    {
        public bool FailWrites { get; set; }

        public bool FailReads { get; set; }

        public string Deserialize(System.Buffers.ReadOnlySequence<byte> source) =>
            FailReads ? throw new FormatException("unreadable") : System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(source));

        public void Serialize(string value, System.Buffers.IBufferWriter<byte> target)
        {
            if (FailWrites)
            {
                throw new InvalidOperationException("cannot write");
            }

            System.Buffers.BuffersExtensions.Write(target, System.Text.Encoding.UTF8.GetBytes(value));
        }
    }

    private sealed class CountingFactory : IHybridCacheSerializerFactory
    {
        public System.Collections.Concurrent.ConcurrentBag<Type> Asked { get; } = [];

        public bool TryCreateSerializer<T>([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
        {
            Asked.Add(typeof(T));
            serializer = null;
            return false;
        }
    }
}
