using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CachePatterns.Benchmarks;

/// <summary>A throw-away redis-server the benchmark starts itself on a free loopback port (no persistence), killed on dispose.</summary>
public sealed class RedisBenchServer : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RedisBenchServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts a server; <paramref name="extraArguments"/> are added to its command line (e.g. a Cluster node's).</summary>
    public static RedisBenchServer Start(params string[] extraArguments)
    {
        int port;
        do
        {
            // At most 55535: a Cluster node's bus listens on port + 10000.
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        while (port > 55535);

        var directory = Path.Combine(Path.GetTempPath(), "cachepatterns-bench-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, WorkingDirectory = directory };
        foreach (var arg in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory }.Concat(extraArguments))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (is it installed?)");
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return new RedisBenchServer(process, directory, port);
            }
            catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
