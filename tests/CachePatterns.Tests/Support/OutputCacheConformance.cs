using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Support;

/// <summary>
/// ASP.NET Core output caching over <c>AddOutputCacheStore()</c>, through the real middleware on a Kestrel loopback port,
/// run on every provider: pages cached, evicted by tag, and a page rendered before an eviction never stored after it.
/// </summary>
public abstract class OutputCacheConformance
{
    /// <summary>Chooses the provider of the app's default cache; apps created by one test share its data.</summary>
    protected abstract void UseProvider(CachePatternsBuilder builder);

    /// <summary>Gets whether app instances share the provider's data (out of process).</summary>
    protected abstract bool AppsShareTheCache { get; }

    [Fact]
    public async Task A_page_is_rendered_once_and_then_served_from_the_store()
    {
        await using var app = await ShopApp.StartAsync(UseProvider);

        Assert.Equal("catalogue:1", await app.GetAsync("/catalogue"));
        Assert.Equal("catalogue:1", await app.GetAsync("/catalogue"));
        Assert.Equal(1, app.Renders("catalogue"));
    }

    [Fact]
    public async Task EvictByTag_makes_the_pages_of_the_tag_render_again_and_keeps_the_others()
    {
        await using var app = await ShopApp.StartAsync(UseProvider);
        await app.GetAsync("/catalogue");
        await app.GetAsync("/about");

        // Served from the store before the eviction: the middleware stores a page after the client has its body, and a
        // page whose store lands after an eviction is born invalid when its tag's version is new (conservative: seen once).
        Assert.Equal("catalogue:1", await app.GetAsync("/catalogue"));
        Assert.Equal("about:1", await app.GetAsync("/about"));
        await app.Store.EvictByTagAsync("products", CancellationToken.None);

        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));
        Assert.Equal("about:1", await app.GetAsync("/about"));
        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));
    }

    [Fact]
    public async Task A_page_rendered_before_an_eviction_of_its_tag_is_not_stored_after_it()
    {
        await using var app = await ShopApp.StartAsync(UseProvider);
        app.HoldNextRender("catalogue");

        var slow = app.GetAsync("/catalogue");
        try
        {
            await app.RenderStarted("catalogue").WaitAsync(TimeSpan.FromSeconds(30));
            await app.Store.EvictByTagAsync("products", CancellationToken.None);
        }
        finally
        {
            app.ReleaseRender("catalogue");
        }

        Assert.Equal("catalogue:1", await slow);

        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));
        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));
    }

    [Fact]
    public async Task The_store_evicts_by_tag_and_expires_without_a_request_too()
    {
        await using var app = await ShopApp.StartAsync(UseProvider);
        var store = app.Store;

        await store.SetAsync("k1", [1, 2, 3], ["a", "b"], TimeSpan.FromMinutes(5), CancellationToken.None);
        await store.SetAsync("k2", [4], ["b"], TimeSpan.FromMinutes(5), CancellationToken.None);
        await store.SetAsync("k3", [5], null, TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal([1, 2, 3], await store.GetAsync("k1", CancellationToken.None));

        await store.EvictByTagAsync("b", CancellationToken.None);

        Assert.Null(await store.GetAsync("k1", CancellationToken.None));
        Assert.Null(await store.GetAsync("k2", CancellationToken.None));
        Assert.Equal([5], await store.GetAsync("k3", CancellationToken.None));
    }

    [Fact]
    public async Task The_buffer_interface_stores_a_sequence_and_writes_the_page_to_a_pipe()
    {
        await using var app = await ShopApp.StartAsync(UseProvider);

        // The middleware stores through IOutputCacheBufferStore when the registered store implements it (ASP.NET Core's
        // OutputCacheEntryFormatter: `store is IOutputCacheBufferStore`), so every page test above ran through it too.
        var store = Assert.IsAssignableFrom<IOutputCacheBufferStore>(app.Store);

        // A page in three segments; tags as the middleware passes them: a slice of a pooled array with stale entries after it.
        var page = Segments([1, 2], [3, 4, 5], [6]);
        var pooled = new[] { "a", "b", "stale" };
        await store.SetAsync("k1", page, pooled.AsMemory(0, 2), TimeSpan.FromMinutes(5), CancellationToken.None);
        await store.SetAsync("k2", Segments([7]), ReadOnlyMemory<string>.Empty, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Equal([1, 2, 3, 4, 5, 6], await TryGetAsync(store, "k1"));
        Assert.Equal([1, 2, 3, 4, 5, 6], await store.GetAsync("k1", CancellationToken.None));

        await store.EvictByTagAsync("stale", CancellationToken.None);
        Assert.Equal([1, 2, 3, 4, 5, 6], await TryGetAsync(store, "k1"));

        await store.EvictByTagAsync("b", CancellationToken.None);
        Assert.Null(await TryGetAsync(store, "k1"));
        Assert.Equal([7], await TryGetAsync(store, "k2"));
    }

    [Fact]
    public async Task A_tag_eviction_in_one_app_instance_makes_the_other_render_the_page_again()
    {
        await using var first = await ShopApp.StartAsync(UseProvider);
        await using var second = await ShopApp.StartAsync(UseProvider);
        if (!AppsShareTheCache)
        {
            return; // the in-memory provider: each instance has its own cache, nothing is shared to evict
        }

        Assert.Equal("catalogue:1", await first.GetAsync("/catalogue"));

        // The next request on the same keep-alive connection starts after the first one ended, its page stored.
        Assert.Equal("catalogue:1", await first.GetAsync("/catalogue"));
        Assert.Equal("catalogue:1", await second.GetAsync("/catalogue"));
        Assert.Equal(0, second.Renders("catalogue"));

        await second.Store.EvictByTagAsync("products", CancellationToken.None);

        Assert.Equal("catalogue:2", await first.GetAsync("/catalogue"));
        Assert.Equal("catalogue:2", await second.GetAsync("/catalogue"));
        Assert.Equal((2, 0), (first.Renders("catalogue"), second.Renders("catalogue")));
    }

    [Fact]
    public async Task A_response_that_is_not_stored_gives_its_lease_back_when_the_request_ends()
    {
        // One client, one keep-alive connection: Kestrel ends a request (and gives its leases back) before it reads the
        // next one. Without the release, the next miss would find the lease held and not store its page (Redis).
        await using var app = await ShopApp.StartAsync(UseProvider);
        app.FailNextRender("catalogue");

        await Assert.ThrowsAsync<HttpRequestException>(() => app.GetAsync("/catalogue"));
        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));

        Assert.Equal("catalogue:2", await app.GetAsync("/catalogue"));
        Assert.Equal(2, app.Renders("catalogue"));
    }

    /// <summary>The page <c>TryGetAsync</c> wrote to a pipe; <see langword="null"/> when it found none (and then wrote nothing).</summary>
    private static async Task<byte[]?> TryGetAsync(IOutputCacheBufferStore store, string key)
    {
        var pipe = new Pipe();
        var found = await store.TryGetAsync(key, pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var read = await pipe.Reader.ReadAtLeastAsync(int.MaxValue);
        var written = read.Buffer.ToArray();
        pipe.Reader.AdvanceTo(read.Buffer.End);
        await pipe.Reader.CompleteAsync();
        if (!found)
        {
            Assert.Empty(written);
            return null;
        }

        return written;
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>A small shop app: pages that count their renders, can be held mid-render or fail once.</summary>
    public sealed class ShopApp : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HttpClient _client;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _renders = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (TaskCompletionSource Started, TaskCompletionSource Release)> _held = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _failing = new();

        private ShopApp(WebApplication app, string address)
        {
            _app = app;
            // One host name for every instance, as behind a load balancer: the output cache's key includes the host.
            _client = new HttpClient { BaseAddress = new Uri(address) };
            _client.DefaultRequestHeaders.Host = "shop.test";
        }

        public IOutputCacheStore Store => _app.Services.GetRequiredService<IOutputCacheStore>();

        public IServiceProvider Services => _app.Services;

        public static async Task<ShopApp> StartAsync(Action<CachePatternsBuilder> useProvider)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddOutputCache();
            var cache = builder.Services.AddCachePatterns();
            useProvider(cache);
            cache.AddOutputCacheStore();
            var app = builder.Build();
            ShopApp? shop = null;
            app.UseOutputCache();
            app.MapGet("/catalogue", (Func<HttpContext, Task<IResult>>)(c => shop!.RenderAsync("catalogue", c))).CacheOutput(p => p.Tag("products"));
            app.MapGet("/about", (Func<HttpContext, Task<IResult>>)(c => shop!.RenderAsync("about", c))).CacheOutput(p => p.Tag("pages"));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            shop = new ShopApp(app, address);
            return shop;
        }

        public int Renders(string page) => _renders.GetValueOrDefault(page);

        public void HoldNextRender(string page) =>
            _held[page] = (new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously));

        public Task RenderStarted(string page) => _held[page].Started.Task;

        public void ReleaseRender(string page) => _held[page].Release.TrySetResult();

        public void FailNextRender(string page) => _failing[page] = true;

        public Task<string> GetAsync(string path) => _client.GetStringAsync(new Uri(path, UriKind.Relative));

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task<IResult> RenderAsync(string page, HttpContext context)
        {
            var render = _renders.AddOrUpdate(page, 1, (_, n) => n + 1);
            if (_held.TryGetValue(page, out var hold) && hold.Started.TrySetResult())
            {
                await hold.Release.Task;
            }

            if (_failing.TryRemove(page, out _))
            {
                return Results.StatusCode(StatusCodes.Status500InternalServerError);
            }

            return Results.Text($"{page}:{render}");
        }
    }
}
