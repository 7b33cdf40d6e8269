using System.Diagnostics;
using System.Text;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// Interop with libmemcached: a small C program built against libmemcached-dev (weighted ketama) is the peer.
/// It must choose the same node as our ring for every key, find the keys we store, and we must find its keys.
/// Never skipped: without gcc or libmemcached-dev the test fails saying what to install.
/// </summary>
public sealed class InteropTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private static readonly Lazy<string> Peer = new(Compile);

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 2, 3)]
    [InlineData(5, 1, 2)]
    public async Task Libmemcached_chooses_the_same_node_for_every_key(int w1, int w2, int w3)
    {
        var servers = Weighted(w1, w2, w3);
        var prefix = $"where{w1}{w2}{w3}:";
        var output = await RunPeerAsync("where", prefix, 3000, servers);
        using var client = Clients.Create(servers);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3000, lines.Length);
        var mismatches = lines.Select(l => l.Split(' ')).Count(p => client.NodeFor(Encoding.UTF8.GetBytes(p[0])).Name != p[1]);
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public async Task Keys_written_by_libmemcached_are_found_by_us_on_the_same_node_and_vice_versa()
    {
        fixture.EnsureRunning();
        var servers = Weighted(1, 2, 1);
        using var client = Clients.Create(servers);

        var theirs = $"c{Guid.NewGuid():N}:";
        await RunPeerAsync("set", theirs, 500, servers);
        var singles = fixture.Servers.Select(s => Clients.Create([s.Address])).ToArray();
        try
        {
            for (var i = 0; i < 500; i++)
            {
                var key = theirs + i;
                var node = client.NodeFor(client.EncodeKey(key));
                var single = singles[Array.FindIndex(fixture.Servers, s => s.Address == node.Name)];
                var hit = await single.GetAsync(key, "v", default);
                Assert.True(hit.Status == MetaStatus.Value, $"{key}, written by libmemcached, is not on {node.Name}");
                Assert.Equal(key, Encoding.UTF8.GetString(hit.Value!));
            }
        }
        finally
        {
            foreach (var single in singles)
            {
                single.Dispose();
            }
        }

        var ours = $"n{Guid.NewGuid():N}:";
        for (var i = 0; i < 500; i++)
        {
            await client.SetAsync(ours + i, Encoding.UTF8.GetBytes(ours + i), TimeSpan.FromMinutes(5), string.Empty, default);
        }

        var found = await RunPeerAsync("get", ours, 500, servers);
        var missing = found.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.EndsWith(" found", StringComparison.Ordinal)).ToArray();
        Assert.True(missing.Length == 0, "libmemcached did not find: " + string.Join(", ", missing.Take(10)));
    }

    private string[] Weighted(int w1, int w2, int w3) =>
        [$"{fixture.Servers[0].Address}:{w1}", $"{fixture.Servers[1].Address}:{w2}", $"{fixture.Servers[2].Address}:{w3}"];

    private static async Task<string> RunPeerAsync(string mode, string prefix, int count, string[] servers)
    {
        var info = new ProcessStartInfo(Peer.Value) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { mode, prefix, count.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(servers))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ketama_peer {mode} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }

    private static string Compile()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Interop", "ketama_peer.c");
        var output = Path.Combine(Path.GetTempPath(), $"ketama_peer_{Environment.ProcessId}");
        var info = new ProcessStartInfo("gcc") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-O1", "-o", output, source, "-lmemcached" })
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var gcc = Process.Start(info)!;
            var errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0)
            {
                throw new InvalidOperationException($"Compiling the libmemcached peer failed (install libmemcached-dev and gcc; ./test.sh as root does): {errors}");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("gcc is not on PATH: the libmemcached interop test compiles a C peer (apt-get install gcc libmemcached-dev).", ex);
        }

        return output;
    }
}
