using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>
/// A throw-away <c>redis-server</c> process on a free loopback port (no persistence, files in a temp folder), shared by
/// every test of the assembly and killed by its process handle when they are done. Fails, never skips, when
/// <c>redis-server</c> is not installed.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IRedisTarget
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cachepatterns-redis-" + Guid.NewGuid().ToString("N"));
    private readonly string[] _extraArguments;
    private Process? _process;
    private int _instances;

    public RedisServer()
        : this([])
    {
    }

    /// <summary>A server with extra command-line arguments (replicas, memory limits, TLS, ...).</summary>
    private RedisServer(string[] extraArguments) => _extraArguments = extraArguments;

    /// <summary>Extra options of the raw client (credentials on a server whose default user is off).</summary>
    public string RawOptions { get; init; } = string.Empty;

    /// <summary>Starts a server of its own whose raw client connects with <paramref name="rawOptions"/> added.</summary>
    public static async Task<RedisServer> StartWithRawOptionsAsync(string rawOptions, params string[] extraArguments)
    {
        var server = new RedisServer(extraArguments) { RawOptions = rawOptions };
        await server.InitializeAsync();
        return server;
    }

    /// <summary>TLS files when the server speaks only TLS (<see cref="StartTlsAsync"/>).</summary>
    public TlsFiles? Tls { get; private set; }

    /// <summary>Starts a server that accepts only TLS on its port, with a certificate from <paramref name="files"/>.</summary>
    public static async Task<RedisServer> StartTlsAsync(TlsFiles files)
    {
        var server = new RedisServer(["--tls-cert-file", files.ServerCertificate, "--tls-key-file", files.ServerKey, "--tls-ca-cert-file", files.CertificateAuthority, "--tls-auth-clients", "no"])
        {
            Tls = files,
        };
        await server.InitializeAsync();
        return server;
    }

    /// <summary>Starts a server of its own (not shared by the collection), for tests that kill or freeze it.</summary>
    public static async Task<RedisServer> StartAsync(params string[] extraArguments)
    {
        var server = new RedisServer(extraArguments);
        await server.InitializeAsync();
        return server;
    }

    /// <summary>The folder of the server's files (certificates, config).</summary>
    public string DirectoryPath => _directory;

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");

    /// <summary>Kills the server (data lost, as in a crash).</summary>
    public void Crash() => Kill();

    /// <summary>Starts the server again on the same port (after <see cref="Crash"/>).</summary>
    public async Task RestartAsync()
    {
        _process = Process.Start(StartInfo(FindOnPath("redis-server")!))!;
        if (!await WaitUntilReadyAsync())
        {
            throw new InvalidOperationException($"redis-server did not restart on 127.0.0.1:{Port}.");
        }
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open, nothing is answered, the data survives.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>Lets a paused server run again (SIGCONT).</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private ProcessStartInfo StartInfo(string executable)
    {
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var arg in (Tls is null ? ["--port", port] : new[] { "--port", "0", "--tls-port", port }).Concat(new[]
        {
            "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory,
            "--pidfile", Path.Combine(_directory, "redis.pid"), "--logfile", Path.Combine(_directory, "redis.log"),
        }).Concat(_extraArguments))
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    public int Port { get; private set; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A raw client for looking behind the provider's back (and writing garbage).</summary>
    public ConnectionMultiplexer Raw { get; private set; } = null!;

    public IDatabase Database => Raw.GetDatabase();

    public async Task InitializeAsync()
    {
        var executable = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not on PATH. The Redis provider's tests run against a real server: install it " +
            "(Debian: apt-get install redis-server redis-tools; ./test.sh does this when run as root).");
        Directory.CreateDirectory(_directory);
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            _process = Process.Start(StartInfo(executable))!;
            if (await WaitUntilReadyAsync())
            {
                break;
            }

            var log = File.Exists(Path.Combine(_directory, "redis.log")) ? await File.ReadAllTextAsync(Path.Combine(_directory, "redis.log")) : "(no log)";
            Kill();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"redis-server did not start on 127.0.0.1:{Port}. Its log:\n{log}");
            }
        }

        var raw = ConfigurationOptions.Parse(Configuration + ",allowAdmin=true" + RawOptions);
        if (Tls is not null)
        {
            raw.Ssl = true;
            raw.TrustIssuer(Tls.CertificateAuthority);
        }

        Raw = await ConnectionMultiplexer.ConnectAsync(raw);
    }

    /// <summary>Creates a provider on this server, its keys under an instance name no other test uses.</summary>
    public RedisCacheProvider CreateProvider(Action<RedisCacheProviderOptions>? configure = null, string? instanceName = null)
    {
        var options = new RedisCacheProviderOptions { Configuration = Configuration, InstanceName = instanceName ?? NewInstanceName() };
        configure?.Invoke(options);
        return new RedisCacheProvider(Options.Create(options));
    }

    public string NewInstanceName() => $"t{Interlocked.Increment(ref _instances)}:";

    public static ICacheStore<string, string> CreateStore(ICacheProvider provider, ICacheStoreObserver? observer = null, string prefix = "P:")
    {
        Assert.True(new SystemTextJsonCacheSerializerFactory().TryCreateSerializer<string>(out var serializer));
        return provider.CreateStore(new CacheStoreDescriptor<string, string>("test", prefix, serializer) { Observer = observer });
    }

    public async Task DisposeAsync()
    {
        if (Raw is not null)
        {
            await Raw.DisposeAsync();
        }

        Kill();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process!.HasExited)
            {
                return false;
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                if (Tls is not null)
                {
                    // TLS only: the port accepts; the raw client's handshake (trusting the test CA) checks the rest.
                    return true;
                }

                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                var reply = System.Text.Encoding.ASCII.GetString(buffer, 0, read);

                // PONG, or NOAUTH from a server whose default user is off: either way it serves.
                if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }

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

    /// <summary>A free loopback port at most 55535 (a Cluster node's bus listens on port + 10000).</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port <= 55535)
            {
                return port;
            }
        }
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

[CollectionDefinition(Name)]
public sealed class RedisServerGroup : ICollectionFixture<RedisServer>
{
    public const string Name = "redis";
}
