using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CachePatterns.Benchmarks;

/// <summary>A memcached or redis-server the benchmark starts itself on a free loopback port (and kills when disposed).</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(string binary, Func<int, string[]> arguments)
    {
        Port = FreePort();
        var path = FindOnPath(binary) ?? throw new InvalidOperationException(
            $"{binary} is not on PATH: install it (apt-get install memcached redis-server libmemcached-tools) to run this benchmark.");
        var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments(Port))
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"{binary} did not start.");
        var deadline = Stopwatch.StartNew();
        while (!Accepts(Port))
        {
            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"{binary} on port {Port} did not accept connections: {_process.StandardError.ReadToEnd()}");
            }

            Thread.Yield();
        }
    }

    public int Port { get; }

    public string Address => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>memcached with 4 worker threads (its default) and 256 MB.</summary>
    public static ServerProcess Memcached() =>
        new("memcached", port => ["-l", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", "0", "-m", "256", "-u", "root"]);

    /// <summary>redis-server without persistence.</summary>
    public static ServerProcess Redis() =>
        new("redis-server", port => ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"]);

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
