using System.Data.Common;
using System.Globalization;
using CachePatterns.Routing.Internal;
using Npgsql;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>Turns <see cref="RoutingOptions"/> into endpoints for PostgreSQL: host lists expanded, names defaulted, data sources built.</summary>
internal static class NpgsqlEndpoints
{
    /// <summary>Every endpoint of the options, with names, as the router will use them. Throws <see cref="ArgumentException"/> naming a bad value.</summary>
    public static List<RoutingEndpointOptions> Resolve(RoutingOptions options)
    {
        var endpoints = new List<RoutingEndpointOptions>();
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            var builder = Parse(options.ConnectionString, "ConnectionString");
            foreach (var (host, port) in SplitHosts(builder.Host, builder.Port, "ConnectionString"))
            {
                var single = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Host = host, Port = port };
                endpoints.Add(new RoutingEndpointOptions { Name = $"{host}:{port}", ConnectionString = single.ConnectionString });
            }
        }

        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var endpoint = options.Endpoints[i];
            var name = endpoint.Name;
            if (options.DataSourceFactory is null)
            {
                var builder = Parse(endpoint.ConnectionString, $"Endpoints[{i}].ConnectionString");
                var hosts = SplitHosts(builder.Host, builder.Port, $"Endpoints[{i}].ConnectionString");
                if (hosts.Count != 1)
                {
                    throw new ArgumentException($"Endpoints[{i}].ConnectionString must name one host, but names {hosts.Count} ({builder.Host}); put a host list in RoutingOptions.ConnectionString instead.");
                }

                name ??= $"{hosts[0].Host}:{hosts[0].Port}";
            }

            endpoints.Add(new RoutingEndpointOptions
            {
                Name = name ?? $"endpoint{i}",
                ConnectionString = endpoint.ConnectionString,
                Role = endpoint.Role,
                Weight = endpoint.Weight,
            });
        }

        return endpoints;
    }

    /// <summary>
    /// The default data sources of an endpoint, from one <see cref="NpgsqlDataSourceBuilder"/> with the password provider and
    /// the user's builder callback: the application's pool as configured, and the probes' own pool of one connection (so a
    /// probe never adds a connection to the application's pool, nor waits for one when that pool is exhausted).
    /// </summary>
    public static EndpointDataSources CreateDataSources(RoutingOptions options, RoutingEndpointOptions endpoint)
    {
        var builder = new NpgsqlDataSourceBuilder(endpoint.ConnectionString) { Name = endpoint.Name };
        if (options.PasswordProvider is { } provider)
        {
            if (options.PasswordRefreshInterval is { } interval)
            {
                builder.UsePeriodicPasswordProvider((_, ct) => provider(endpoint, ct), interval, TimeSpan.FromSeconds(5));
            }
            else
            {
                builder.UsePasswordProvider(
                    _ => provider(endpoint, CancellationToken.None).AsTask().GetAwaiter().GetResult(),
                    (_, ct) => provider(endpoint, ct));
            }
        }

        options.ConfigureNpgsql?.Invoke(endpoint, builder);
        var connections = builder.Build();
        builder.Name = endpoint.Name + " probes";
        builder.ConnectionStringBuilder.Pooling = true;
        builder.ConnectionStringBuilder.Multiplexing = false;
        builder.ConnectionStringBuilder.MinPoolSize = 0;
        builder.ConnectionStringBuilder.MaxPoolSize = 1;
        return new EndpointDataSources(connections, builder.Build());
    }

    private static NpgsqlConnectionStringBuilder Parse(string connectionString, string setting)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            // The message of the parser names the key, never the value (which may be a password).
            throw new ArgumentException($"{setting} is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }
    }

    private static List<(string Host, int Port)> SplitHosts(string? hosts, int defaultPort, string setting)
    {
        if (string.IsNullOrWhiteSpace(hosts))
        {
            throw new ArgumentException($"{setting} has no Host.");
        }

        var result = new List<(string, int)>();
        foreach (var part in hosts.Split(',', StringSplitOptions.TrimEntries))
        {
            var host = part;
            var port = defaultPort;
            var colon = part.LastIndexOf(':');
            if (colon >= 0 && !part.EndsWith(']'))
            {
                host = part[..colon];
                var portText = part[(colon + 1)..];
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    throw new ArgumentException($"{setting}: host '{part}' has an invalid port '{portText}' (1 to 65535).");
                }
            }

            if (host.Length == 0)
            {
                throw new ArgumentException($"{setting}: the host list '{hosts}' has an empty host.");
            }

            result.Add((host, port));
        }

        return result;
    }
}
