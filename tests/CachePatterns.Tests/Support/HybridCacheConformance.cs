using CachePatterns.Hybrid;
using System.Buffers;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace CachePatterns.Tests.Support;

/// <summary>
/// What code written against Microsoft's <see cref="HybridCache"/> expects of it, after the behaviours documented for
/// HybridCache and checked by dotnet/extensions' own tests (test/Libraries/Microsoft.Extensions.Caching.Hybrid.Tests:
/// FunctionalTests, StampedeTests, LocalInvalidationTests, TagSetTests, SizeTests, ExpirationTests), in our own code, run
/// on every provider: memory (fake clock) and Redis (a real server). Deliberate differences: docs/hybridcache.md.
/// </summary>
public abstract class HybridCacheConformance
{
    /// <summary>Builds a container (with fake logging) with the adapter on the default cache; <paramref name="services"/> adds registrations.</summary>
    protected abstract ServiceProvider CreateServices(Action<CachePatternsHybridCacheOptions>? options = null, Action<IServiceCollection>? services = null);

    /// <summary>A second container over the same provider data (another process's view), or <see langword="null"/> when there is none.</summary>
    protected abstract ServiceProvider? CreatePeer();

    private HybridCache Cache(ServiceProvider services) => services.GetRequiredService<HybridCache>();

    [Fact]
    public async Task GetOrCreate_runs_the_factory_once_and_then_serves_the_cached_value()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var runs = 0;

        var first = await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs));
        var second = await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs));

        Assert.Equal((1, 1, 1), (first, second, runs));
    }

    [Fact]
    public async Task The_state_overload_passes_its_state_to_the_factory()
    {
        await using var services = CreateServices();

        var value = await Cache(services).GetOrCreateAsync("k", (Id: 7, Name: "seven"), (s, _) => ValueTask.FromResult($"{s.Id}={s.Name}"));

        Assert.Equal("7=seven", value);
    }

    [Fact]
    public async Task Concurrent_callers_of_one_key_share_one_factory_run()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;

        var callers = Enumerable.Range(0, 10).Select(_ => cache.GetOrCreateAsync("k", async ct =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task.WaitAsync(ct);
            return "loaded";
        }).AsTask()).ToArray();
        await WaitUntilAsync(() => Volatile.Read(ref runs) > 0);
        gate.SetResult();

        Assert.All(await Task.WhenAll(callers), v => Assert.Equal("loaded", v));
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task When_every_caller_cancels_the_shared_factory_run_is_cancelled()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var factoryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        var callers = Enumerable.Range(0, 3).Select(_ => cache.GetOrCreateAsync("k", async ct =>
        {
            started.TrySetResult();
            ct.Register(() => factoryCancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }, cancellationToken: cts.Token).AsTask()).ToArray();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();

        foreach (var caller in callers)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        }

        await factoryCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task When_some_callers_cancel_the_others_still_get_the_value_of_the_one_run()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        using var cts = new CancellationTokenSource();
        ValueTask<string> Call(CancellationToken ct) => cache.GetOrCreateAsync("k", async t =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task.WaitAsync(t);
            return "loaded";
        }, cancellationToken: ct);

        var leaving = Enumerable.Range(0, 3).Select(_ => Call(cts.Token).AsTask()).ToArray();
        var staying = Enumerable.Range(0, 3).Select(_ => Call(CancellationToken.None).AsTask()).ToArray();
        await WaitUntilAsync(() => Volatile.Read(ref runs) > 0);
        await cts.CancelAsync();
        gate.SetResult();

        foreach (var caller in leaving)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        }

        Assert.All(await Task.WhenAll(staying), v => Assert.Equal("loaded", v));
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task A_caller_whose_token_is_already_cancelled_gets_OperationCanceledException_and_no_factory_run()
    {
        await using var services = CreateServices();
        var runs = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await Cache(services).GetOrCreateAsync("k", _ => ValueTask.FromResult(++runs), cancellationToken: new CancellationToken(canceled: true)));

        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task SetAsync_stores_a_value_that_GetOrCreate_returns_without_running_the_factory_and_a_second_set_replaces_it()
    {
        await using var services = CreateServices();
        var cache = Cache(services);

        await cache.SetAsync("k", "first");
        Assert.Equal("first", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory")));
        await cache.SetAsync("k", "second");

        Assert.Equal("second", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory")));
    }

    [Fact]
    public async Task RemoveAsync_makes_the_next_call_run_the_factory_for_one_key_and_for_many()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        foreach (var key in new[] { "a", "b", "c" })
        {
            await cache.SetAsync(key, "old");
        }

        await cache.RemoveAsync("a");
        await cache.RemoveAsync(["b", "c"]);
        await cache.RemoveAsync([]);

        foreach (var key in new[] { "a", "b", "c" })
        {
            Assert.Equal("new", await cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new")));
        }
    }

    [Fact]
    public async Task RemoveByTag_reloads_the_entries_carrying_the_tag_and_keeps_the_others()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v1"), tags: ["abc", "other"]);
        await cache.GetOrCreateAsync("untagged", _ => ValueTask.FromResult("v1"));

        await cache.RemoveByTagAsync("foo");
        Assert.Equal("v1", await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v2"), tags: ["abc", "other"]));

        await cache.RemoveByTagAsync("abc");
        Assert.Equal("v2", await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v2"), tags: ["abc", "other"]));
        Assert.Equal("v2", await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v3"), tags: ["abc", "other"]));
        Assert.Equal("v1", await cache.GetOrCreateAsync("untagged", _ => ValueTask.FromResult("v2")));

        await cache.RemoveByTagAsync(["nothing", "other"]);
        Assert.Equal("v3", await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v3"), tags: ["abc", "other"]));
    }

    [Fact]
    public async Task RemoveByTag_of_the_wildcard_reloads_every_entry_of_the_HybridCache_and_nothing_else()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var adHoc = services.GetRequiredService<ICache>();
        await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v1"), tags: ["abc"]);
        await cache.GetOrCreateAsync("untagged", _ => ValueTask.FromResult("v1"));
        await cache.SetAsync("set", "v1");
        await adHoc.SetAsync("ad-hoc", "kept");

        await cache.RemoveByTagAsync("*");

        Assert.Equal("v2", await cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("v2"), tags: ["abc"]));
        Assert.Equal("v2", await cache.GetOrCreateAsync("untagged", _ => ValueTask.FromResult("v2")));
        Assert.Equal("v2", await cache.GetOrCreateAsync("set", _ => ValueTask.FromResult("v2")));
        Assert.Equal("v2", await cache.GetOrCreateAsync("untagged", _ => ValueTask.FromResult("v3")));
        Assert.Equal((true, "kept"), await adHoc.TryGetAsync<string>("ad-hoc"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData(null)]
    public async Task An_empty_or_reserved_entry_tag_is_refused_naming_the_tags(string? tag)
    {
        await using var services = CreateServices();

        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Cache(services).GetOrCreateAsync("k", _ => ValueTask.FromResult(1), tags: ["fine", tag!]));

        Assert.Equal("tags", ex.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a\u0000c")]
    [InlineData("a\u001Fc")]
    [InlineData("abc-too-long")]
    public async Task A_key_HybridCache_does_not_cache_runs_the_factory_on_every_call_and_is_logged(string key)
    {
        await using var services = CreateServices(o => o.MaximumKeyLength = 8);
        var cache = Cache(services);
        var runs = 0;

        await cache.SetAsync(key, 100);
        var first = await cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(++runs));
        var second = await cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(++runs));

        Assert.Equal((1, 2), (first, second));
        Assert.Contains(services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 450);
    }

    [Fact]
    public async Task A_key_with_a_space_is_cached()
    {
        await using var services = CreateServices();
        var cache = Cache(services);

        await cache.GetOrCreateAsync("a c", _ => ValueTask.FromResult(1));

        Assert.Equal(1, await cache.GetOrCreateAsync("a c", _ => ValueTask.FromResult(2)));
    }

    [Fact]
    public async Task DisableUnderlyingData_reads_only_the_cache_and_returns_default_on_a_miss()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var readOnly = new HybridCacheEntryOptions
        {
            Flags = HybridCacheEntryFlags.DisableUnderlyingData | HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite,
        };
        var runs = 0;

        Assert.Null(await cache.GetOrCreateAsync<string?>("k", _ => ValueTask.FromResult<string?>($"{++runs}"), readOnly));
        await cache.SetAsync("k", "stored");

        Assert.Equal("stored", await cache.GetOrCreateAsync<string?>("k", _ => ValueTask.FromResult<string?>($"{++runs}"), readOnly));
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task With_writes_disabled_the_factory_value_is_returned_and_not_cached()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var noWrite = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite };

        Assert.Equal("default", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("default"), noWrite));
        await cache.SetAsync("k", "ignored", noWrite);

        Assert.Equal("loaded", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("loaded")));
    }

    [Fact]
    public async Task With_reads_disabled_the_factory_runs_even_on_a_hit_and_its_value_is_stored()
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var noRead = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableDistributedCacheRead };
        await cache.SetAsync("k", "old");

        Assert.Equal("fresh", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("fresh"), noRead));

        Assert.Equal("fresh", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory")));
    }

    [Fact]
    public async Task Default_entry_flags_apply_to_calls_without_options()
    {
        await using var services = CreateServices(o => o.DefaultEntryOptions = new() { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite });
        var cache = Cache(services);

        await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(1));

        Assert.Equal(2, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)));
        Assert.Equal(3, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) }));
        Assert.Equal(4, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(4), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.None }));
        Assert.Equal(4, await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(5), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.None }));
    }

    [Fact]
    public Task A_removal_while_the_factory_runs_keeps_the_value_it_computed_out_of_the_cache() =>
        AssertRemovalDuringFactoryIsFencedAsync(static c => c.RemoveAsync("k"), tags: null);

    [Fact]
    public Task A_tag_removal_while_the_factory_runs_keeps_the_value_it_computed_out_of_the_cache() =>
        AssertRemovalDuringFactoryIsFencedAsync(static c => c.RemoveByTagAsync("t"), tags: ["t"]);

    [Fact]
    public async Task A_serializer_registered_the_HybridCache_way_is_used_by_an_out_of_process_provider()
    {
        var serializer = new CountingSerializer();
        await using var services = CreateServices(services: s => s.AddSingleton<IHybridCacheSerializer<Money>>(serializer));
        var cache = Cache(services);

        await cache.SetAsync("k", new Money(12.5m));
        var read = await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(new Money(0)));

        Assert.Equal(12.5m, read.Amount);
        Assert.Equal(SerializesValues ? (1, 1) : (0, 0), (serializer.Serialized, serializer.Deserialized));
    }

    [Fact]
    public async Task A_remove_by_tag_in_one_process_reloads_the_entry_in_another()
    {
        await using var services = CreateServices();
        await using var peer = CreatePeer();
        if (peer is null)
        {
            return; // one process only: nothing to share (the in-memory provider); the other tests cover it
        }

        var here = Cache(services);
        var there = Cache(peer);
        Assert.Equal("v1", await there.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"), tags: ["t"]));
        Assert.Equal("v1", await here.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), tags: ["t"]));

        await here.RemoveByTagAsync("t");

        Assert.Equal("v2", await there.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2"), tags: ["t"]));
    }

    /// <summary>Whether the provider serializes values (out of process), so that serializers are called.</summary>
    protected abstract bool SerializesValues { get; }

    /// <summary>
    /// Microsoft's implementation stores the value computed before a removal that lands while its factory runs (the
    /// stale-set race); here the fill is fenced and the caller's flight loads again, so neither it nor a later caller gets
    /// the old value.
    /// </summary>
    private async Task AssertRemovalDuringFactoryIsFencedAsync(Func<HybridCache, ValueTask> removal, string[]? tags)
    {
        await using var services = CreateServices();
        var cache = Cache(services);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        async ValueTask<string> Factory(CancellationToken ct)
        {
            var run = Interlocked.Increment(ref runs);
            started.TrySetResult();
            await gate.Task;
            return $"v{run}";
        }

        var slow = cache.GetOrCreateAsync("k", Factory, tags: tags).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await removal(cache);
        gate.SetResult();

        Assert.NotEqual("v1", await slow);
        Assert.NotEqual("v1", await cache.GetOrCreateAsync("k", Factory, tags: tags));
    }

    protected static async Task WaitUntilAsync(Func<bool> condition)
    {
        var bound = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < bound, "The condition did not hold within 30 s.");
            await Task.Yield();
            await Task.Delay(5);
        }
    }

    public sealed record Money(decimal Amount);

    private sealed class CountingSerializer : IHybridCacheSerializer<Money>
    {
        public int Serialized;
        public int Deserialized;

        public Money Deserialize(System.Buffers.ReadOnlySequence<byte> source)
        {
            Interlocked.Increment(ref Deserialized);
            return new Money(decimal.Parse(System.Text.Encoding.UTF8.GetString(BuffersExtensions.ToArray(source)), System.Globalization.CultureInfo.InvariantCulture));
        }

        public void Serialize(Money value, System.Buffers.IBufferWriter<byte> target)
        {
            Interlocked.Increment(ref Serialized);
            target.Write(System.Text.Encoding.UTF8.GetBytes(value.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }
}
