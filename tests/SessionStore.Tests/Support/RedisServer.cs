using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace SessionStore.Tests.Support;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port (no persistence, files in a temp folder), killed by its
/// process handle on dispose. Fails, never skips, when <c>redis-server</c> is not installed.
/// (Same approach as tests/CachePatterns.Redis.Tests/Support/RedisServer.cs.)
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private RedisServer(string directory) => _directory = directory;

    public int Port { get; private set; }

    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A raw client, for looking at (and deleting) what the app stored.</summary>
    public ConnectionMultiplexer Raw { get; private set; } = null!;

    public static async Task<RedisServer> StartAsync(string directory)
    {
        var executable = ProcessPaths.FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not on PATH. The SessionStore tests share sessions through a real Redis: install it " +
            "(Debian: apt-get install redis-server; ./test.sh does this when run as root).");
        Directory.CreateDirectory(directory);
        var server = new RedisServer(directory);
        for (var attempt = 1; ; attempt++)
        {
            server.Port = FreePort.Next();
            var start = new ProcessStartInfo(executable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = directory,
            };
            foreach (var arg in new[]
            {
                "--port", server.Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", directory, "--logfile", Path.Combine(directory, "redis.log"),
            })
            {
                start.ArgumentList.Add(arg);
            }

            server._process = Process.Start(start)!;
            if (await server.WaitUntilReadyAsync())
            {
                break;
            }

            var log = File.Exists(Path.Combine(directory, "redis.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "redis.log")) : "(no log)";
            server.Kill();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"redis-server did not start on 127.0.0.1:{server.Port}. Its log:\n{log}");
            }
        }

        server.Raw = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        return server;
    }

    /// <summary>
    /// The keys of the app's sessions (their names end with the session key, after the <c>session:</c> namespace); not the
    /// provider's write-id lists beside them (<c>{…}:d</c>, kept by durable writes).
    /// </summary>
    public IReadOnlyList<RedisKey> SessionKeys() =>
        [.. Raw.GetServer(Raw.GetEndPoints()[0]).Keys(pattern: "*session:*").Where(static k => !k.ToString().EndsWith(":d", StringComparison.Ordinal))];

    /// <summary>Stops the server with SIGSTOP: it keeps its connections but answers nothing (a hung server).</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Resumes a paused server (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process!.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Raw is not null)
        {
            await Raw.DisposeAsync();
        }

        Kill();
    }

    private async Task<bool> WaitUntilReadyAsync() =>
        await Wait.UntilAsync(async () =>
        {
            if (_process!.HasExited)
            {
                return true;
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(15)) && !_process!.HasExited;

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        _process = null;
    }
}
