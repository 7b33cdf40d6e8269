using CachePatterns.Diagnostics;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// A value its serializer cannot write is a bad value, not a cache failure: the strategy returns it uncached, the ad-hoc
/// cache throws <see cref="CacheSerializationException"/> naming its type, and neither counts toward the circuit breaker —
/// which would otherwise take the cache away from every other key of the named cache.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class UnserializableValueTests(RedisServer redis)
{
    [Fact]
    public async Task Values_that_cannot_be_serialized_are_returned_uncached_and_never_open_the_circuit()
    {
        var loader = new CountingRowLoader();
        await using var services = new ServiceCollection()
            .AddMetrics()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = redis.NewInstanceName();
            })
            .ConfigureResilience(o =>
            {
                o.OperationTimeout = TimeSpan.FromSeconds(5);
                o.MinimumThroughput = 4;
                o.FailureRatio = 0.5;
                o.BreakDuration = TimeSpan.FromMinutes(5);
            })
            .AddStrategy<int, Cycle>(CacheStrategyKind.CacheAside, _ => new CycleLoader())
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => loader)
            .Services.BuildServiceProvider();
        using var errors = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), CacheDiagnostics.SourceName, CacheDiagnostics.ProviderErrors);
        var cycles = services.GetRequiredService<ICacheStrategy<int, Cycle>>();
        var rows = services.GetRequiredService<ICacheStrategy<int, string>>();

        for (var i = 0; i < 20; i++)
        {
            var value = await cycles.GetAsync(i % 2);
            Assert.NotNull(value);
            Assert.Same(value, value!.Next);
        }

        Assert.Empty(errors.GetMeasurementSnapshot());

        // The circuit is closed: the other strategy of the same cache is still served by Redis.
        Assert.Equal("row 1", await rows.GetAsync(1));
        Assert.Equal("row 1", await rows.GetAsync(1));
        Assert.Equal(1, loader.Loads);

        var thrown = await Assert.ThrowsAsync<CacheSerializationException>(
            async () => await services.GetRequiredService<ICache>().SetAsync("cycle", new Cycle()));
        Assert.Equal(typeof(Cycle), thrown.ValueType);
        Assert.Contains(typeof(Cycle).FullName!, thrown.Message, StringComparison.Ordinal);
    }

    /// <summary>An object graph with a cycle: System.Text.Json refuses it (JsonException).</summary>
    public sealed class Cycle
    {
        public Cycle() => Next = this;

        public Cycle Next { get; set; }
    }

    private sealed class CycleLoader : ICacheLoader<int, Cycle>
    {
        public ValueTask<LoadResult<Cycle>> LoadAsync(int key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.Found(new Cycle()));
    }

    private sealed class CountingRowLoader : ICacheLoader<int, string>
    {
        private int _loads;

        public int Loads => _loads;

        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads);
            return ValueTask.FromResult(LoadResult.Found($"row {key}"));
        }
    }
}
