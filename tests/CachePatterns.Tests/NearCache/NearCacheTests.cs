using CachePatterns.Diagnostics;
using CachePatterns.NearCache;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.NearCache;

/// <summary>
/// The near cache (L1) over an out-of-process provider stand-in shared by two containers ("processes" A and B) with one
/// database and one clock: hits from process memory, invalidations across processes, fenced copies, no copy served while
/// the invalidation channel is down, bounded staleness without a channel.
/// </summary>
public sealed class NearCacheTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly TestDatabase _database = new();
    private readonly FakeRemoteServer _server;
    private readonly List<TestCacheHost> _hosts = [];

    public NearCacheTests() => _server = new FakeRemoteServer(_time);

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }

        _server.Dispose();
    }

    [Fact]
    public async Task A_hit_is_served_from_process_memory_without_a_remote_read()
    {
        _database.Seed(1, "v1");
        var (a, provider) = Process();
        using var nearHits = a.Counter(CacheDiagnostics.NearHits);
        using var hits = a.Counter(CacheDiagnostics.Hits);

        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        var reads = provider.Reads;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("v1", await a.Strategy.GetAsync(1));
        }

        Assert.Equal(reads, provider.Reads);
        Assert.Equal(10, nearHits.Total());
        Assert.Equal(10, hits.Total());
        Assert.Equal(1, _database.LoadCount);
    }

    [Fact]
    public async Task A_hit_from_process_memory_allocates_nothing()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process();
        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        Assert.Equal("v1", await a.Strategy.GetAsync(1));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var pending = a.Strategy.GetAsync(1);
            Assert.True(pending.IsCompletedSuccessfully);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task A_write_in_one_process_drops_the_copy_in_the_other()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process();
        var (b, bProvider) = Process();
        using var received = b.Counter(CacheDiagnostics.NearInvalidations);
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        Assert.Equal("v1", await b.Strategy.GetAsync(1));

        await a.Strategy.WriteAsync(1, "v2");

        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.True(received.Total() >= 1);
        Assert.True(bProvider.Delivered >= 1);

        // A remove too.
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        await a.Strategy.RemoveAsync(1);
        Assert.Null(await b.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task A_write_in_this_process_drops_its_copy_at_once()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process(push: false);
        Assert.Equal("v1", await a.Strategy.GetAsync(1));

        await a.Strategy.WriteAsync(1, "v2");

        Assert.Equal("v2", await a.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task A_copy_whose_remote_read_began_before_an_invalidation_arrived_is_refused()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process();
        var (b, _) = Process();
        using var fenced = b.Counter(CacheDiagnostics.NearFillsFenced);
        Assert.Equal("v1", await a.Strategy.GetAsync(1)); // the server holds v1

        // B's remote read gets v1 and its reply is held; meanwhile A writes v2 and B hears the invalidation.
        var release = new TaskCompletionSource();
        var readDone = _server.HoldNextRead(release.Task);
        var bRead = b.Strategy.GetAsync(1).AsTask();
        await readDone.WaitAsync(TimeSpan.FromSeconds(10));
        await a.Strategy.WriteAsync(1, "v2");
        release.SetResult();

        // The read began before the write completed: v1 is a correct answer for it, but it must not be copied.
        Assert.Equal("v1", await bRead.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.Equal(1, fenced.Total());
    }

    [Fact]
    public async Task No_copy_is_served_while_the_channel_is_down()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process();
        var (b, bProvider) = Process();
        using var flushes = b.Counter(CacheDiagnostics.NearFlushes);
        using var nearHits = b.Counter(CacheDiagnostics.NearHits);
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        Assert.Equal(1, nearHits.Total());

        bProvider.Disconnect();
        Assert.Equal(1, flushes.Total(tag: "reason", value: "disconnected"));
        var reads = bProvider.Reads;
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        Assert.Equal(reads + 2, bProvider.Reads);

        // A's invalidation is lost to B: B still reads the provider, never a copy.
        await a.Strategy.WriteAsync(1, "v2");
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.Equal(1, nearHits.Total());

        bProvider.Reconnect();
        Assert.Equal(1, flushes.Total(tag: "reason", value: "resynchronized"));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
        Assert.Equal(2, nearHits.Total());
    }

    [Fact]
    public async Task A_copy_read_before_the_channel_went_down_is_not_kept_after_it_is_back()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process();
        var (b, bProvider) = Process();
        Assert.Equal("v1", await a.Strategy.GetAsync(1));

        // B's read got v1 before the cut; A's write is lost to B; the reply lands after the channel is back.
        var release = new TaskCompletionSource();
        var readDone = _server.HoldNextRead(release.Task);
        var bRead = b.Strategy.GetAsync(1).AsTask();
        await readDone.WaitAsync(TimeSpan.FromSeconds(10));
        bProvider.Disconnect();
        await a.Strategy.WriteAsync(1, "v2");
        bProvider.Reconnect();
        release.SetResult();

        Assert.Equal("v1", await bRead.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task Without_an_invalidation_channel_a_copy_lives_at_most_MaxStaleness()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process(push: false);
        var (b, _) = Process(push: false, near: o => o.MaxStaleness = TimeSpan.FromSeconds(1));
        Assert.Equal("v1", await b.Strategy.GetAsync(1));

        await a.Strategy.WriteAsync(1, "v2");

        // What the docs promise, and no more: another process may read the old value for up to MaxStaleness.
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("v2", await b.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task Without_an_invalidation_channel_a_lost_connection_drops_the_copies()
    {
        _database.Seed(1, "v1");
        var (a, _) = Process(push: false);
        var (b, bProvider) = Process(push: false);
        Assert.Equal("v1", await b.Strategy.GetAsync(1));
        await a.Strategy.WriteAsync(1, "v2");

        bProvider.Signal(Providers.CacheConnectionState.Lost);

        Assert.Equal("v2", await b.Strategy.GetAsync(1));
    }

    [Fact]
    public async Task A_strategy_that_opts_out_reads_the_provider_every_time()
    {
        _database.Seed(1, "v1");
        var (a, provider) = Process(strategy: o => o.UseNearCache = false);
        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        var reads = provider.Reads;

        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        Assert.Equal("v1", await a.Strategy.GetAsync(1));

        Assert.Equal(reads + 2, provider.Reads);
    }

    [Fact]
    public async Task A_copy_of_a_sliding_entry_lives_at_most_half_the_window()
    {
        _database.Seed(1, "v1");
        var (a, provider) = Process(strategy: o => o.SlidingExpiration = TimeSpan.FromSeconds(10));
        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        var reads = provider.Reads;
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        Assert.Equal(reads, provider.Reads);

        // The remote sliding window is renewed by remote reads only: the copy goes before the remote entry could.
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("v1", await a.Strategy.GetAsync(1));
        Assert.Equal(reads + 1, provider.Reads);
        Assert.Equal(1, _database.LoadCount);
    }

    [Fact]
    public async Task Bulk_reads_use_and_fill_the_copies()
    {
        _database.Seed(1, "v1").Seed(2, "w1");
        var (a, _) = Process();
        var (b, bProvider) = Process();
        Assert.Equal("v1", await b.Strategy.GetAsync(1));

        var first = await b.Strategy.GetManyAsync([1, 2]);
        var reads = bProvider.Reads;
        var second = await b.Strategy.GetManyAsync([1, 2]);
        Assert.Equal(reads, bProvider.Reads);
        Assert.Equal("v1", first[1]);
        Assert.Equal("w1", second[2]);

        await a.Strategy.WriteAsync(2, "w2");
        var third = await b.Strategy.GetManyAsync([1, 2]);
        Assert.Equal("w2", third[2]);
    }

    [Fact]
    public async Task Invalidations_still_reach_copies_after_the_key_index_is_trimmed()
    {
        var (a, _) = Process();
        var (b, _) = Process(near: o => o.MaxEntries = 8);
        for (var key = 0; key < 1200; key++)
        {
            _database.Seed(key, $"v{key}");
            Assert.Equal($"v{key}", await b.Strategy.GetAsync(key));
        }

        // The last keys read are still copied in B (its index was trimmed more than once on the way).
        Assert.Equal("v1199", await b.Strategy.GetAsync(1199));
        await a.Strategy.WriteAsync(1199, "changed");
        Assert.Equal("changed", await b.Strategy.GetAsync(1199));
    }

    [Fact]
    public async Task The_distributed_cache_never_uses_the_near_cache()
    {
        var (a, _) = Process(builder: c => c.AddDistributedCache());
        var (b, bProvider) = Process(builder: c => c.AddDistributedCache());
        var aCache = a.Services.GetRequiredService<IDistributedCache>();
        var bCache = b.Services.GetRequiredService<IDistributedCache>();
        await aCache.SetAsync("s", [1]);
        Assert.Equal([1], await bCache.GetAsync("s"));
        var reads = bProvider.Reads;
        Assert.Equal([1], await bCache.GetAsync("s"));
        Assert.Equal(reads + 1, bProvider.Reads);
    }

    [Theory]
    [InlineData("MaxEntries", 0)]
    [InlineData("MaxLifetime", -1)]
    [InlineData("MaxStaleness", 0)]
    [InlineData("MaxBytes", 0)]
    public void Bad_options_fail_at_start_naming_the_setting_and_value(string setting, int value)
    {
        using var host = TestCacheHost.Create(b =>
        {
            b.UseProvider(_ => _server.Connect());
            b.WithNearCache(o =>
            {
                switch (setting)
                {
                    case "MaxEntries": o.MaxEntries = value; break;
                    case "MaxLifetime": o.MaxLifetime = TimeSpan.FromSeconds(value); break;
                    case "MaxStaleness": o.MaxStaleness = TimeSpan.FromSeconds(value); break;
                    default: o.MaxBytes = value; break;
                }
            });
        });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptionsMonitor<NearCacheOptions>>().Get(CachePatternsBuilder.DefaultCacheName));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_invalidation_drops_only_the_copies_carrying_the_tag_in_every_process()
    {
        // Before, a tag invalidation dropped every copy of the named cache, in this process and in the others.
        var (a, _) = Process();
        var (b, _) = Process();
        var rows = "v1";
        ValueTask<string> QueryAsync(TestCacheHost process, string query, params string[] tags) =>
            process.Services.GetRequiredService<ICache>().GetOrLoadAsync(
                query, 0, (_, _) => ValueTask.FromResult(Volatile.Read(ref rows)), tags.Length == 0 ? null : new CacheEntryOptions { Tags = tags });
        using var aHits = a.Counter(CacheDiagnostics.NearHits);
        using var bHits = b.Counter(CacheDiagnostics.NearHits);
        using var aFlushes = a.Counter(CacheDiagnostics.NearFlushes);
        using var bFlushes = b.Counter(CacheDiagnostics.NearFlushes);
        foreach (var process in new[] { a, b })
        {
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal("v1", await QueryAsync(process, "q1", "red"));
                Assert.Equal("v1", await QueryAsync(process, "q2", "blue"));
                Assert.Equal("v1", await QueryAsync(process, "q3"));
            }
        }

        Assert.Equal((3, 3), (aHits.Total(), bHits.Total()));

        Volatile.Write(ref rows, "v2");
        await a.Services.GetRequiredService<ICache>().InvalidateTagAsync("red");

        foreach (var (process, hits) in new[] { (a, aHits), (b, bHits) })
        {
            Assert.Equal("v2", await QueryAsync(process, "q1", "red"));
            Assert.Equal("v1", await QueryAsync(process, "q2", "blue")); // still copies, served from memory
            Assert.Equal("v1", await QueryAsync(process, "q3"));
            Assert.Equal(5, hits.Total());
        }

        Assert.Equal((0, 0), (aFlushes.Total(), bFlushes.Total()));
    }

    [Fact]
    public async Task A_copy_whose_remote_read_began_before_its_tag_was_invalidated_is_refused()
    {
        var (a, _) = Process();
        var (b, _) = Process();
        var rows = "v1";
        ValueTask<string> QueryAsync(TestCacheHost process, string query, string tag) =>
            process.Services.GetRequiredService<ICache>().GetOrLoadAsync(
                query, 0, (_, _) => ValueTask.FromResult(Volatile.Read(ref rows)), new CacheEntryOptions { Tags = [tag] });
        var aCache = a.Services.GetRequiredService<ICache>();
        using var bHits = b.Counter(CacheDiagnostics.NearHits);
        Assert.Equal("v1", await QueryAsync(a, "q1", "red"));
        Assert.Equal("v1", await QueryAsync(a, "q2", "blue"));

        // B's remote read of q1 has read v1 (tagged red); A invalidates red while B's reply is on its way.
        var release = new TaskCompletionSource();
        var readDone = _server.HoldNextRead(release.Task);
        var bRead = QueryAsync(b, "q1", "red").AsTask();
        await readDone.WaitAsync(TimeSpan.FromSeconds(10));
        Volatile.Write(ref rows, "v2");
        await aCache.InvalidateTagAsync("red");
        release.SetResult();
        Assert.Equal("v1", await bRead.WaitAsync(TimeSpan.FromSeconds(10))); // it began before the invalidation

        // No copy of it was made: the next read goes to the server (a miss there too) and loads v2.
        Assert.Equal("v2", await QueryAsync(b, "q1", "red"));
        Assert.Equal(0, bHits.Total());

        // The same race with another tag invalidated: the copy is made.
        release = new TaskCompletionSource();
        readDone = _server.HoldNextRead(release.Task);
        bRead = QueryAsync(b, "q2", "blue").AsTask();
        await readDone.WaitAsync(TimeSpan.FromSeconds(10));
        await aCache.InvalidateTagAsync("green");
        release.SetResult();
        Assert.Equal("v1", await bRead.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("v1", await QueryAsync(b, "q2", "blue"));
        Assert.Equal(1, bHits.Total());
    }

    private (TestCacheHost Host, FakeRemoteProvider Provider) Process(
        bool push = true,
        Action<NearCacheOptions>? near = null,
        Action<CacheStrategyOptions>? strategy = null,
        Action<CachePatternsBuilder>? builder = null)
    {
        var provider = _server.Connect(push);
        var host = TestCacheHost.Create(
            b =>
            {
                b.UseProvider(_ => provider);
                b.WithNearCache(near);
                b.AddCacheAside<int, string, TestDatabase>(o =>
                {
                    o.Jitter = 0;
                    strategy?.Invoke(o);
                });
                builder?.Invoke(b);
            },
            time: _time,
            database: _database);
        _hosts.Add(host);
        return (host, provider);
    }
}
