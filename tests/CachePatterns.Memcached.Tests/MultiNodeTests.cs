using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;

namespace CachePatterns.Memcached.Tests;

public sealed class KetamaRingTests
{
    private static ServerAddress[] Servers(int count, int firstPort = 20000) =>
        Enumerable.Range(0, count).Select(i => new ServerAddress("127.0.0.1", firstPort + i, 1)).ToArray();

    private static string[] Keys(int count) => Enumerable.Range(0, count).Select(i => $"key:{i}").ToArray();

    [Fact]
    public void Equal_weights_give_160_points_per_server_and_an_even_spread()
    {
        var ring = new KetamaRing(Servers(4));
        Assert.Equal(640, ring.PointCount);
        var counts = new int[4];
        foreach (var key in Keys(20_000))
        {
            counts[ring.ServerFor(Encoding.UTF8.GetBytes(key))]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 3_500, 6_500));
    }

    [Fact]
    public void Weights_scale_the_share_of_points()
    {
        var ring = new KetamaRing([new ServerAddress("10.0.0.1", 11211, 2), new ServerAddress("10.0.0.2", 11211, 1)]);
        // libmemcached's arithmetic: floor(2/3 × 40 × 2) = 53 and floor(1/3 × 40 × 2) = 26 digests, 4 points each.
        Assert.Equal((53 + 26) * 4, ring.PointCount);
        var first = Keys(30_000).Count(k => ring.ServerFor(Encoding.UTF8.GetBytes(k)) == 0);
        Assert.InRange(first, 30_000 * 0.58, 30_000 * 0.76);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void Adding_or_removing_one_of_n_nodes_moves_about_one_nth_of_the_keys(int n)
    {
        var keys = Keys(30_000).Select(Encoding.UTF8.GetBytes).ToArray();
        var servers = Servers(n + 1);
        var before = new KetamaRing(servers[..n]);
        var after = new KetamaRing(servers);
        var moved = keys.Count(k => before.ServerFor(k) != after.ServerFor(k));
        var expected = keys.Length / (double)(n + 1);
        Assert.InRange(moved, expected * 0.6, expected * 1.4);

        // Every key that moved went to the new node; nothing moved between the old ones.
        Assert.All(keys.Where(k => before.ServerFor(k) != after.ServerFor(k)), k => Assert.Equal(n, after.ServerFor(k)));

        // Removing a node from the middle of the list (what RemapDeadNodes does): only its own keys move.
        var without = new KetamaRing([.. servers[..1], .. servers[2..]]);
        var removed = keys.Count(k => after.ServerFor(k) == 1);
        var movedOnRemoval = keys.Count(k => servers[after.ServerFor(k)] != new[] { servers[0] }.Concat(servers[2..]).ElementAt(without.ServerFor(k)));
        Assert.Equal(removed, movedOnRemoval);
        Assert.InRange(removed, expected * 0.6, expected * 1.4);
    }

    [Fact]
    public void Port_11211_hashes_the_host_alone_like_libmemcached()
    {
        // With the default port the points come from "host-i": the ring must differ from one built on another port.
        var a = new KetamaRing([new ServerAddress("a", 11211, 1), new ServerAddress("b", 11211, 1)]);
        var b = new KetamaRing([new ServerAddress("a", 11212, 1), new ServerAddress("b", 11212, 1)]);
        var keys = Keys(2_000).Select(Encoding.UTF8.GetBytes).ToArray();
        Assert.Contains(keys, k => a.ServerFor(k) != b.ServerFor(k));
    }
}

public sealed class MultiNodeTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Fact]
    public async Task Each_key_lives_on_the_node_the_ring_chooses_and_multi_get_merges_all_nodes()
    {
        fixture.EnsureRunning();
        using var client = Clients.Create(fixture.Addresses);
        var keys = Enumerable.Range(0, 300).Select(i => $"mn:{Guid.NewGuid():N}:{i}").ToArray();
        foreach (var key in keys)
        {
            await client.SetAsync(key, Encoding.UTF8.GetBytes("v-" + key), TimeSpan.FromMinutes(5), string.Empty, default);
        }

        var perNode = new int[3];
        for (var n = 0; n < 3; n++)
        {
            using var single = Clients.Create([fixture.Servers[n].Address]);
            foreach (var key in keys)
            {
                var onThisNode = (await single.GetAsync(key, "v", default)).Status == MetaStatus.Value;
                var expected = client.NodeFor(client.EncodeKey(key)).Name == fixture.Servers[n].Address;
                Assert.Equal(expected, onThisNode);
                perNode[n] += onThisNode ? 1 : 0;
            }
        }

        Assert.All(perNode, c => Assert.InRange(c, 40, 200));
        var many = await client.GetManyAsync([.. keys, "absent:1", "absent:2"], "v", default);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal("v-" + keys[i], Encoding.UTF8.GetString(many[i].Response!.Value!));
        }

        Assert.Equal(MetaStatus.Miss, many[^1].Response!.Status);
        Assert.Equal(MetaStatus.Miss, many[^2].Response!.Status);
    }

    [Fact]
    public async Task Multi_get_with_one_node_down_returns_the_other_nodes_results()
    {
        fixture.EnsureRunning();
        using var client = Clients.Create(fixture.Addresses, o => o.ConnectTimeout = TimeSpan.FromSeconds(1));
        var keys = Enumerable.Range(0, 90).Select(i => $"down:{Guid.NewGuid():N}:{i}").ToArray();
        foreach (var key in keys)
        {
            await client.SetAsync(key, "x"u8.ToArray(), TimeSpan.FromMinutes(5), string.Empty, default);
        }

        var victim = fixture.Servers[1];
        victim.Kill();
        try
        {
            var many = await client.GetManyAsync(keys, "v", default);
            for (var i = 0; i < keys.Length; i++)
            {
                var onVictim = client.NodeFor(client.EncodeKey(keys[i])).Name == victim.Address;
                if (onVictim)
                {
                    Assert.NotNull(many[i].Error);
                    Assert.Null(many[i].Response);
                }
                else
                {
                    Assert.Null(many[i].Error);
                    Assert.Equal(MetaStatus.Value, many[i].Response!.Status);
                }
            }

            Assert.Contains(many, r => r.Error is not null);
        }
        finally
        {
            victim.Start();
        }
    }
}
