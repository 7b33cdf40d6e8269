using CachePatterns.Redis.Tests.Support;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Redis.Tests;

/// <summary>The IDistributedCache expectations on a real Redis, in real time (expiry is judged by the server's clock).</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisDistributedCacheConformanceTests : DistributedCacheConformance, IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public RedisDistributedCacheConformanceTests(RedisServer redis)
    {
        var instance = redis.NewInstanceName();
        _services = new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.InstanceName = instance;
            })
            .AddDistributedCache()
            .Services.BuildServiceProvider();
    }

    protected override IDistributedCache Cache => _services.GetRequiredService<IDistributedCache>();

    protected override DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    protected override bool FakeClock => false;

    protected override Task PassAsync(TimeSpan time) => Task.Delay(time);

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    [Fact]
    public async Task The_synchronous_methods_do_not_deadlock_under_a_single_threaded_synchronization_context()
    {
        var context = new SingleThreadContext();
        var done = context.Run(() =>
        {
            Cache.Set("sync", [1, 2], new DistributedCacheEntryOptions());
            var read = Cache.Get("sync");
            Cache.Refresh("sync");
            Cache.Remove("sync");
            return read is [1, 2] && Cache.Get("sync") is null;
        });

        Assert.True(await done.WaitAsync(TimeSpan.FromSeconds(30)), "the synchronous calls finished (no deadlock) and read back what they wrote");
    }

    [Fact]
    public async Task Bytes_are_stored_as_bytes_not_base64_json()
    {
        var value = new byte[30_000];
        Random.Shared.NextBytes(value);
        await Cache.SetAsync("raw", value, new DistributedCacheEntryOptions());
        var provider = (RedisCacheProvider)_services.GetRequiredKeyedService<Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
        var multiplexer = provider.Connection.Multiplexer!;
        var server = multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
        var key = await server.KeysAsync(pattern: "*dc:raw}").SingleAsync();

        var stored = (byte[])(await multiplexer.GetDatabase().StringGetAsync(key))!;

        // The envelope's 34-byte header, then the value itself.
        Assert.Equal(value.Length + 34, stored.Length);
        Assert.True(stored.AsSpan(34).SequenceEqual(value));
    }

    /// <summary>Runs work on one dedicated thread that pumps its own synchronization context, as a UI or old ASP.NET thread would.</summary>
    private sealed class SingleThreadContext : SynchronizationContext
    {
        private readonly System.Collections.Concurrent.BlockingCollection<(SendOrPostCallback, object?)> _queue = [];

        public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

        public Task<T> Run<T>(Func<T> work)
        {
            var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                SetSynchronizationContext(this);
                Post(_ =>
                {
                    try
                    {
                        result.SetResult(work());
                    }
                    catch (Exception ex)
                    {
                        result.SetException(ex);
                    }
                    finally
                    {
                        _queue.CompleteAdding();
                    }
                }, null);
                foreach (var (callback, state) in _queue.GetConsumingEnumerable())
                {
                    callback(state);
                }
            })
            { IsBackground = true };
            thread.Start();
            return result.Task;
        }
    }
}
