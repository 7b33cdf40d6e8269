using System.Net;
using System.Net.Sockets;

namespace SessionStore.Tests.Support;

public static class FreePort
{
    /// <summary>A loopback port free at the time of asking (callers retry when another process takes it first).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
