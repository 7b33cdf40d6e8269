using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Values at memcached's real item limit, and <c>SERVER_ERROR</c> replies: they fail only their own request, the
/// connection and the node stay in use.
/// </summary>
public sealed class ServerErrorTests : IDisposable
{
    // memcached with -I 512k: the largest value is 524288 - 59 - key length (measured; see MemcachedClient.ItemOverheadBytes).
    private const int ItemSize = 512 * 1024;
    private readonly MemcachedProcess _server = new("-I", "512k");

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Largest_value_the_server_accepts_is_stored_and_one_byte_more_is_refused_before_sending()
    {
        using var client = Clients.Create([_server.Address], o => o.MaxItemSize = ItemSize);
        foreach (var key in new[] { "k", new string('k', 100), new string('k', 250) })
        {
            var limit = ItemSize - 59 - key.Length;
            Assert.Equal(limit, client.MaxValueBytesFor(client.EncodeKey(key)));
            Assert.Equal(MetaStatus.Stored, (await client.SetAsync(key, new byte[limit], null, string.Empty, default)).Status);
            Assert.Equal(limit, (await client.GetAsync(key, "v", default)).Value!.Length);

            var error = await Assert.ThrowsAsync<CacheValueTooLargeException>(() => client.SetAsync(key, new byte[limit + 1], null, string.Empty, default));
            Assert.Equal((limit + 1L, (long)limit), (error.Size, error.Limit));
        }

        // The default is memcached's default item size (1 MiB), not a lower cap.
        Assert.Equal(1024 * 1024, new MemcachedCacheProviderOptions().MaxItemSize);
    }

    [Fact]
    public async Task Value_the_server_refuses_fails_only_its_own_request_and_the_node_stays_in_use()
    {
        // The provider believes in 1 MiB items, the server allows 512 KiB: memcached answers SERVER_ERROR, in step.
        using var provider = new MemcachedCacheProvider(Options.Create(Clients.Options([_server.Address], o => o.FailuresBeforeDead = 1)));
        var store = provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));
        var client = provider.Client;
        for (var i = 0; i < 50; i++)
        {
            await client.SetAsync("cached:" + i, Encoding.UTF8.GetBytes("v" + i), null, string.Empty, default);
        }

        var connection = client.Nodes[0].CurrentConnection;
        Assert.NotNull(connection);

        // Requests pipelined around the refused one, on the same connection, all get their own replies.
        var before = Enumerable.Range(0, 50).Select(i => client.GetAsync("cached:" + i, "v", default)).ToArray();
        var refused = store.SetAsync("big", CacheValue<string>.Of(new string('x', 700_000)), new StoreEntryOptions(TimeSpan.FromMinutes(5)), default).AsTask();
        var after = Enumerable.Range(0, 50).Select(i => client.GetAsync("cached:" + i, "v", default)).ToArray();

        var error = await Assert.ThrowsAsync<CacheValueTooLargeException>(() => refused);
        Assert.Contains("-I", error.Message, StringComparison.Ordinal);
        var replies = await Task.WhenAll(before.Concat(after));
        Assert.All(replies.Select((r, i) => (r, i % 50)), x => Assert.Equal("v" + x.Item2, Encoding.UTF8.GetString(x.r.Value!)));
        Assert.Same(connection, client.Nodes[0].CurrentConnection);
        Assert.False(connection.IsBroken);
        Assert.False(client.Nodes[0].IsDead);
    }
}
