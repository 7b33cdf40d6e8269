using System.Diagnostics;
using CachePatterns.Distributed;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// Sessions are data: during a 10 s SIGSTOP of redis-server, a store write is either stored after the resume or
/// reported to its caller as failed, never deleted; a read reports "unavailable", never "absent"; and a remove that
/// failed is not replayed later over a newer value. Two app instances share the server, as behind a load balancer.
/// </summary>
public sealed class RedisSessionStallTests
{
    private static readonly DistributedCacheEntryOptions Session = new() { SlidingExpiration = TimeSpan.FromMinutes(20) };

    private static ServiceProvider Instance(RedisServer server, DistributedCacheSemantics semantics) =>
        new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = server.Configuration;
                o.InstanceName = "shop:";
            })
            .ConfigureResilience(o => o.BreakDuration = TimeSpan.FromSeconds(1))
            .AddDistributedCache(o => o.Semantics = semantics)
            .Services.BuildServiceProvider();

    [Fact]
    public async Task A_ten_second_stall_loses_no_session_write_and_reads_say_unavailable_not_absent()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var first = Instance(server, DistributedCacheSemantics.Store);
            await using var second = Instance(server, DistributedCacheSemantics.Store);
            var a = first.GetRequiredService<IDistributedCache>();
            var b = second.GetRequiredService<IDistributedCache>();
            await a.SetAsync("cart", [1], Session);
            await a.SetAsync("signed-in", [1], Session);
            await a.SetAsync("signed-out", [1], Session);

            var stall = Stopwatch.StartNew();
            server.Pause();
            Task<byte[]?> read;
            Task write, create, remove;
            try
            {
                read = a.GetAsync("signed-in");
                write = a.SetAsync("cart", [2], Session);
                create = a.SetAsync("new-visitor", [3], Session);
                remove = a.RemoveAsync("signed-out");

                // A read during the stall: unknown, so the application answers "try again" instead of signing the user out.
                var unavailable = await Assert.ThrowsAsync<CacheUnavailableException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.Equal("get", unavailable.Operation);
                await Assert.ThrowsAsync<CacheUnavailableException>(() => b.GetAsync("cart").WaitAsync(TimeSpan.FromSeconds(30)));

                // Writes during the stall end (within their attempts) in "stored" or in an exception the caller sees.
                foreach (var call in new[] { write, create, remove })
                {
                    await Assert.ThrowsAsync<CacheUnavailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
                }

                Assert.True(stall.Elapsed < TimeSpan.FromSeconds(10), $"every call during the stall was answered within it ({stall.Elapsed})");
                await Task.Delay(TimeSpan.FromSeconds(10) - stall.Elapsed);
            }
            finally
            {
                server.Resume();
            }

            // Once the server answers again, every instance sees every session; nothing was deleted in a failed write's place.
            var cart = await ReadWhenAvailableAsync(b, "cart");
            Assert.NotNull(cart);
            Assert.Contains(cart[0], new byte[] { 1, 2 });
            Assert.Equal(new byte[] { 1 }, await ReadWhenAvailableAsync(b, "signed-in"));
            Assert.Equal(new byte[] { 1 }, await ReadWhenAvailableAsync(a, "signed-in"));

            // The remove that failed, followed by a set that succeeded: the new value stays (nothing is replayed later).
            await a.SetAsync("signed-out", [4], Session);
            Assert.Equal(new byte[] { 4 }, await a.GetAsync("signed-out"));
            Assert.Equal(new byte[] { 4 }, await b.GetAsync("signed-out"));
            Assert.Equal(new byte[] { 1 }, await a.GetAsync("signed-in"));
            Assert.Equal(cart, await a.GetAsync("cart"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_call_slower_than_one_attempt_is_waited_for_and_answered_not_turned_into_a_miss()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var services = Instance(server, DistributedCacheSemantics.Store);
            var cache = services.GetRequiredService<IDistributedCache>();
            await cache.SetAsync("slow", [1], Session);

            // The server stops answering for 1.5 s: longer than one attempt (1 s), shorter than the attempts together.
            server.Pause();
            Task<byte[]?> read;
            Task write;
            try
            {
                read = cache.GetAsync("slow");
                write = cache.SetAsync("written-while-slow", [2], Session);
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }
            finally
            {
                server.Resume();
            }

            Assert.Equal(new byte[] { 1 }, await read.WaitAsync(TimeSpan.FromSeconds(30)));
            await write.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(new byte[] { 2 }, await cache.GetAsync("written-while-slow"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_write_retried_after_a_newer_write_landed_does_not_overwrite_it()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            using var provider = server.CreateProvider();
            var descriptor = new Providers.CacheStoreDescriptor<string, byte[]>("distributed", "dc:", Serialization.ByteArrayCacheSerializer.Instance);
            var store = provider.CreateStore(descriptor);
            var older = Providers.CacheWriteId.New();
            var options = new Providers.StoreEntryOptions(TimeSpan.FromMinutes(5));

            Assert.True(await store.StoreAsync("k", Providers.CacheValue<byte[]>.Of([1]), options, older, CancellationToken.None));
            Assert.True(await store.StoreAsync("k", Providers.CacheValue<byte[]>.Of([2]), options, Providers.CacheWriteId.New(), CancellationToken.None));

            // The first write's retry (same id) arrives late: it was applied already, so it is not applied again.
            Assert.False(await store.StoreAsync("k", Providers.CacheValue<byte[]>.Of([1]), options, older, CancellationToken.None));
            Assert.Equal(new byte[] { 2 }, (await store.GetAsync("k", false, CancellationToken.None)).Value.Value);

            // The same for a delete's retry.
            var delete = Providers.CacheWriteId.New();
            Assert.True(await store.DeleteAsync("k", delete, CancellationToken.None));
            Assert.True(await store.StoreAsync("k", Providers.CacheValue<byte[]>.Of([3]), options, Providers.CacheWriteId.New(), CancellationToken.None));
            Assert.False(await store.DeleteAsync("k", delete, CancellationToken.None));
            Assert.Equal(new byte[] { 3 }, (await store.GetAsync("k", false, CancellationToken.None)).Value.Value);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Reads a key, retrying while the provider is unavailable (the circuit closes after its break), for up to 30 s.</summary>
    private static async Task<byte[]?> ReadWhenAvailableAsync(IDistributedCache cache, string key)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await cache.GetAsync(key);
            }
            catch (CacheUnavailableException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }
        }
    }
}
