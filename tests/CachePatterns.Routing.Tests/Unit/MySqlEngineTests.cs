using CachePatterns.Routing.Internal;
using CachePatterns.Routing.MySql;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class MySqlEngineTests
{
    [Fact]
    public void A_server_list_becomes_one_single_server_endpoint_per_host_each_with_its_port()
    {
        var endpoints = MySqlEndpoints.Resolve(new RoutingOptions { ConnectionString = "Server=db1:3307, db2 ,[::1]:3308;User ID=app;Password=secret;Database=shop" });

        Assert.Equal(["db1:3307", "db2:3306", "::1:3308"], endpoints.Select(e => e.Name));
        var second = new MySqlConnectionStringBuilder(endpoints[1].ConnectionString);
        Assert.Equal(("db2", 3306u, "shop"), (second.Server, second.Port, second.Database));
    }

    [Theory]
    [InlineData("Server=db1:99999;User ID=app", "invalid port '99999'")]
    [InlineData("Server=db1,,db2;User ID=app", "empty server")]
    [InlineData("Server=db1;User ID=app;Connection Timeout=0", "Connection Timeout=0")]
    [InlineData("User ID=app", "no Server")]
    public void Bad_connection_strings_are_refused_naming_the_problem_never_the_password(string connectionString, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new RoutingDataSource(new RoutingOptions { Engine = RoutingEngine.MySql, ConnectionString = connectionString + ";Password=hunter2" }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_errors_are_classified_by_number()
    {
        var engine = RoutingEngine.MySql;

        Assert.Equal(RoutingFailure.ReadOnly, engine.Classify(Error(MySqlErrorCode.OptionPreventsStatement)));
        Assert.Equal(RoutingFailure.ReadOnly, engine.Classify(Error(MySqlErrorCode.CannotExecuteInReadOnlyTransaction)));
        Assert.Equal(RoutingFailure.Authentication, engine.Classify(Error(MySqlErrorCode.AccessDenied)));
        Assert.Equal(RoutingFailure.Connection, engine.Classify(Error(MySqlErrorCode.UnableToConnectToHost)));
        Assert.Equal(RoutingFailure.Connection, engine.Classify(Error(MySqlErrorCode.ServerShutdown)));
        Assert.Equal(RoutingFailure.Connection, engine.Classify(new IOException("reset")));
        Assert.Equal(RoutingFailure.None, engine.Classify(Error(MySqlErrorCode.DuplicateKeyEntry)));
        Assert.Equal(RoutingFailure.None, engine.Classify(Error(MySqlErrorCode.ParseError)));
    }

    private static MySqlException Error(MySqlErrorCode code)
    {
        // MySqlException has no public constructor; the error number is what the engine reads.
        var constructor = typeof(MySqlException).GetConstructors(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
            .First(c => c.GetParameters() is [{ ParameterType: var first }, { ParameterType: var second }] && first == typeof(MySqlErrorCode) && second == typeof(string));
        return (MySqlException)constructor.Invoke([code, code.ToString()]);
    }
}
