using System.Net;
using System.Net.Sockets;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>
/// A loopback TCP relay in front of a server, to cut one client off (a network partition) while others still reach the
/// server: <see cref="Cut"/> resets every relayed connection and refuses new ones; <see cref="CutSubscriptions"/> resets only
/// the connections a client has sent <c>SUBSCRIBE</c> on (StackExchange.Redis' pub/sub connection under RESP2) and refuses
/// new ones; <see cref="Restore"/> relays again.
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly int _target;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];

    /// <summary>The client sockets that have sent <c>SUBSCRIBE</c>, with their server side.</summary>
    private readonly List<(Socket Client, Socket Server)> _subscribed = [];
    private volatile bool _cut;

    public TcpProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public void Cut()
    {
        _cut = true;
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                // RST, not FIN: bytes still in flight are dropped, as on a broken network.
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }

            _sockets.Clear();
        }
    }

    /// <summary>Resets the subscription connections only; the others keep working. New connections are refused until <see cref="Restore"/>.</summary>
    /// <returns>How many connections were reset.</returns>
    public int CutSubscriptions()
    {
        _cut = true;
        lock (_sockets)
        {
            foreach (var (client, server) in _subscribed)
            {
                foreach (var socket in new[] { client, server })
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    _sockets.Remove(socket);
                }
            }

            var count = _subscribed.Count;
            _subscribed.Clear();
            return count;
        }
    }

    public void Restore() => _cut = false;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            if (_cut)
            {
                client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target);
            }
            catch (SocketException)
            {
                client.Close();
                server.Dispose();
                continue;
            }

            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            _ = PumpAsync(client, server, () =>
            {
                lock (_sockets)
                {
                    if (_sockets.Contains(client))
                    {
                        _subscribed.Add((client, server));
                    }
                }
            });
            _ = PumpAsync(server, client, null);
        }
    }

    /// <summary>Relays one direction; <paramref name="onSubscribe"/> runs once when the bytes relayed carry <c>SUBSCRIBE</c>.</summary>
    private static async Task PumpAsync(Socket from, Socket to, Action? onSubscribe)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                if (onSubscribe is not null && buffer.AsSpan(0, read).IndexOf("SUBSCRIBE"u8) >= 0)
                {
                    onSubscribe();
                    onSubscribe = null;
                }

                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        try
        {
            to.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }
}
