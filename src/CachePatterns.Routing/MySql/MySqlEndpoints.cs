using System.Globalization;
using CachePatterns.Routing.Internal;
using MySqlConnector;

namespace CachePatterns.Routing.MySql;

/// <summary>
/// Turns <see cref="RoutingOptions"/> into endpoints for MySQL and MariaDB: host lists expanded, names defaulted, data
/// sources built with MySqlConnector.
/// </summary>
/// <remarks>
/// MySqlConnector's own <c>Server=a,b,c</c> shares one <c>Port</c> and picks a host only when it opens a physical
/// connection, without looking at roles or lag; here every host of the list (<c>Server=db1:3306,db2:3307</c>, a port per
/// host allowed) becomes an endpoint of its own with a single-host connection string.
/// </remarks>
internal static class MySqlEndpoints
{
    /// <summary>Every endpoint of the options, with names, as the router will use them. Throws <see cref="ArgumentException"/> naming a bad value.</summary>
    public static List<RoutingEndpointOptions> Resolve(RoutingOptions options)
    {
        var endpoints = new List<RoutingEndpointOptions>();
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            var builder = Parse(options.ConnectionString, "ConnectionString");
            foreach (var (host, port) in SplitHosts(builder.Server, builder.Port, "ConnectionString"))
            {
                var single = new MySqlConnectionStringBuilder(builder.ConnectionString) { Server = host, Port = port };
                endpoints.Add(new RoutingEndpointOptions { Name = $"{host}:{port}", ConnectionString = single.ConnectionString });
            }
        }

        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var endpoint = options.Endpoints[i];
            var name = endpoint.Name;
            var connectionString = endpoint.ConnectionString;
            if (options.DataSourceFactory is null)
            {
                var builder = Parse(endpoint.ConnectionString, $"Endpoints[{i}].ConnectionString");
                var hosts = SplitHosts(builder.Server, builder.Port, $"Endpoints[{i}].ConnectionString");
                if (hosts.Count != 1)
                {
                    throw new ArgumentException($"Endpoints[{i}].ConnectionString must name one server, but names {hosts.Count} ({builder.Server}); put a server list in RoutingOptions.ConnectionString instead.");
                }

                name ??= $"{hosts[0].Host}:{hosts[0].Port}";
                connectionString = new MySqlConnectionStringBuilder(builder.ConnectionString) { Server = hosts[0].Host, Port = hosts[0].Port }.ConnectionString;
            }

            endpoints.Add(new RoutingEndpointOptions
            {
                Name = name ?? $"endpoint{i}",
                ConnectionString = connectionString,
                Role = endpoint.Role,
                Weight = endpoint.Weight,
            });
        }

        return endpoints;
    }

    /// <summary>
    /// The default data sources of an endpoint, each with the password provider and <see cref="RoutingOptions.ConfigureMySql"/>:
    /// the application's pool as configured; a pool of read-only sessions for reads, so a write sent through a read is
    /// refused on the writer as on a replica (1792); and the probes' own pool of one connection (a probe never adds a
    /// connection to the application's pool, nor waits for one when it is exhausted), whose connect and command timeouts
    /// are the probe timeout, so the driver itself gives up on a hung server soon after the router stopped waiting.
    /// </summary>
    public static EndpointDataSources CreateDataSources(RoutingOptions options, RoutingEndpointOptions endpoint)
    {
        var connections = Build(options, endpoint, endpoint.Name!, _ => { });
        var readOnly = Build(options, endpoint, endpoint.Name + " reads", builder =>
        {
            // Without a reset between uses the session keeps its read-only mode, so only a new (or reset) session pays the
            // statement; resetting every use would add a round trip to every read.
            builder.ConnectionStringBuilder.ConnectionReset = false;
            builder.UseConnectionOpenedCallback(MakeReadOnlyAsync);
        });
        var probes = Build(options, endpoint, endpoint.Name + " probes", builder =>
        {
            var settings = builder.ConnectionStringBuilder;
            var probeSeconds = (uint)Math.Clamp(Math.Ceiling(options.ProbeTimeout.TotalSeconds), 1, 3600);
            settings.Pooling = true;
            settings.MinimumPoolSize = 0;
            settings.MaximumPoolSize = 1;
            settings.ConnectionTimeout = probeSeconds;
            settings.DefaultCommandTimeout = probeSeconds;
            settings.CancellationTimeout = -1;
        });
        return new EndpointDataSources(connections, readOnly, probes);
    }

    private static async ValueTask MakeReadOnlyAsync(MySqlConnectionOpenedContext context, CancellationToken cancellationToken)
    {
        if (context.Conditions == MySqlConnectionOpenedConditions.None)
        {
            return;
        }

        var command = context.Connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = "SET SESSION TRANSACTION READ ONLY";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static MySqlDataSource Build(RoutingOptions options, RoutingEndpointOptions endpoint, string name, Action<MySqlDataSourceBuilder> adjust)
    {
        var builder = new MySqlDataSourceBuilder(endpoint.ConnectionString).UseName(name);
        if (options.PasswordProvider is { } provider)
        {
            // MySqlConnector's data sources take a periodic provider only; without an interval the token is fetched every minute.
            builder.UsePeriodicPasswordProvider((_, ct) => provider(endpoint, ct), options.PasswordRefreshInterval ?? TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5));
        }

        options.ConfigureMySql?.Invoke(endpoint, builder);
        adjust(builder);
        return builder.Build();
    }

    private static MySqlConnectionStringBuilder Parse(string connectionString, string setting)
    {
        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or InvalidCastException)
        {
            // The parser's message names the key, never the value (which may be a password).
            throw new ArgumentException($"{setting} is not a valid MySQL connection string: {ex.Message}", ex);
        }

        if (builder.ConnectionTimeout == 0)
        {
            // MySqlConnector waits forever for a connection with Connection Timeout=0: one hung server would hang every caller that opens to it.
            throw new ArgumentException($"{setting} has Connection Timeout=0, which waits forever for a server that does not answer; set a connect timeout in seconds (MySqlConnector's default is 15).");
        }

        return builder;
    }

    private static List<(string Host, uint Port)> SplitHosts(string? hosts, uint defaultPort, string setting)
    {
        if (string.IsNullOrWhiteSpace(hosts))
        {
            throw new ArgumentException($"{setting} has no Server.");
        }

        var result = new List<(string, uint)>();
        foreach (var part in hosts.Split(',', StringSplitOptions.TrimEntries))
        {
            var host = part;
            var port = defaultPort;
            var colon = part.LastIndexOf(':');
            if (colon >= 0 && !part.EndsWith(']') && (part.StartsWith('[') || part.IndexOf(':') == colon))
            {
                host = part[..colon];
                var portText = part[(colon + 1)..];
                if (!uint.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    throw new ArgumentException($"{setting}: server '{part}' has an invalid port '{portText}' (1 to 65535).");
                }
            }

            host = host.TrimStart('[').TrimEnd(']');
            if (host.Length == 0)
            {
                throw new ArgumentException($"{setting}: the server list '{hosts}' has an empty server.");
            }

            result.Add((host, port));
        }

        return result;
    }
}
