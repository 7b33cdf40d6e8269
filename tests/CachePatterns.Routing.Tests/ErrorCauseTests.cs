using System.Net;
using System.Net.Sockets;
using CachePatterns.Routing.Tests.Support;
using Npgsql;

namespace CachePatterns.Routing.Tests;

/// <summary>D5: when nothing can take the work, the error names the cause and carries it as the inner exception.</summary>
[Collection(SharedCluster.Name)]
public sealed class ErrorCauseTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_wrong_password_is_named_and_carried_as_the_inner_exception()
    {
        await using var router = new RoutingDataSource(Routers.Options([], o => o.Endpoints.Add(new RoutingEndpointOptions
        {
            Name = "primary",
            ConnectionString = $"Host=127.0.0.1;Port={fixture.Primary.Port};Username=app;Password=wrong-password;Database=postgres;Timeout=3",
        })));

        var error = await Assert.ThrowsAsync<RoutingException>(async () => await router.ExecuteAsync("SELECT 1"));

        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("primary", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", error.Message, StringComparison.Ordinal);
        Assert.Equal("28P01", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.True(error.IsSafeToRetry);
    }

    [Fact]
    public async Task A_refused_connection_is_named_and_carried_as_the_inner_exception()
    {
        var closedPort = ClosedPort();
        await using var router = new RoutingDataSource(Routers.Options([], o => o.Endpoints.Add(new RoutingEndpointOptions
        {
            Name = "gone",
            ConnectionString = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=postgres;Timeout=3",
        })));

        var write = await Assert.ThrowsAsync<RoutingException>(async () => await router.ExecuteAsync("SELECT 1"));
        var read = await Assert.ThrowsAsync<RoutingException>(async () => await router.QueryAsync<int>("SELECT 1"));

        foreach (var error in new[] { write, read })
        {
            Assert.Contains("gone: ", error.Message, StringComparison.Ordinal);
            Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.NotNull(error.InnerException);
            Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(Innermost(error)).SocketErrorCode);
        }
    }

    private static Exception Innermost(Exception exception) => exception.InnerException is { } inner ? Innermost(inner) : exception;

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
