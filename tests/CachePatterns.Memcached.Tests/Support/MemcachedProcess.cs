using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CachePatterns.Memcached.Tests.Support;

/// <summary>A real memcached started as a local process on a free loopback port. Never skipped: no memcached, no pass.</summary>
public sealed class MemcachedProcess : IDisposable
{
    private readonly string[] _extraArguments;
    private Process? _process;

    /// <summary>Starts memcached with the tests' arguments and <paramref name="extraArguments"/> (for example <c>-I 512k</c>).</summary>
    public MemcachedProcess(params string[] extraArguments)
    {
        _extraArguments = extraArguments;
        Port = FreePort();
        Start();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("memcached is not running.");

    public void Start()
    {
        var path = FindOnPath("memcached") ?? throw new InvalidOperationException(
            "memcached is not on PATH: these tests need a real memcached (apt-get install memcached, or run ./test.sh as root, which installs it).");
        var info = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-l", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "0", "-m", "64", "-u", "root" }.Concat(_extraArguments))
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("memcached did not start.");
        // Wait on the condition itself (the port accepts a connection, or the process died), bounded to 10 s.
        SocketException? last = null;
        var ready = SpinWait.SpinUntil(
            () =>
            {
                if (_process.HasExited)
                {
                    return true;
                }

                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, Port);
                    return true;
                }
                catch (SocketException ex)
                {
                    last = ex;
                    return false;
                }
            },
            TimeSpan.FromSeconds(10));
        if (!ready || _process.HasExited)
        {
            throw new InvalidOperationException($"memcached on port {Port} did not accept connections: {_process.StandardError.ReadToEnd()}", last);
        }
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open, nothing is answered.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (signal == "STOP")
        {
            // A thread busy on a CPU stops only when it next leaves the kernel: wait until every thread is stopped, or a
            // request sent "after" the pause could still be answered.
            SpinWait.SpinUntil(AllThreadsStopped, TimeSpan.FromSeconds(5));
        }
    }

    private bool AllThreadsStopped()
    {
        try
        {
            return Directory.GetDirectories($"/proc/{ProcessId}/task").All(task =>
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..];
                return state.StartsWith('T') || state.StartsWith('t');
            });
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose() => Kill();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>One memcached for a test class.</summary>
public sealed class MemcachedFixture : IDisposable
{
    public MemcachedProcess Server { get; } = new();

    public void Dispose() => Server.Dispose();
}

/// <summary>Three memcached processes for a test class.</summary>
public sealed class ThreeMemcachedFixture : IDisposable
{
    public MemcachedProcess[] Servers { get; } = [new(), new(), new()];

    public IEnumerable<string> Addresses => Servers.Select(s => s.Address);

    public void EnsureRunning()
    {
        foreach (var server in Servers)
        {
            try
            {
                _ = server.ProcessId;
            }
            catch (InvalidOperationException)
            {
                server.Start();
            }
        }
    }

    public void Dispose()
    {
        foreach (var server in Servers)
        {
            server.Dispose();
        }
    }
}
