using System.Data.Common;
using System.Globalization;
using CachePatterns.Routing.Internal;
using Npgsql;

namespace CachePatterns.Routing.PostgreSql;

/// <summary>Turns <see cref="RoutingOptions"/> into endpoints for PostgreSQL: host lists expanded, names defaulted, data sources built.</summary>
internal static class NpgsqlEndpoints
{
    /// <summary>The startup option that makes every transaction of a session read-only (PostgreSQL refuses writes with 25006).</summary>
    private const string ReadOnlySession = "-c default_transaction_read_only=on";

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
    /// the user's builder callback: the application's pool as configured; a pool of read-only sessions
    /// (<c>default_transaction_read_only</c>) for reads, so a write sent through a read is refused on the writer as on a
    /// replica; and the probes' own pool of one connection (a probe never adds a connection to the application's pool, nor
    /// waits for one when that pool is exhausted), whose connect and command timeouts are the probe timeout so the driver
    /// itself gives up a probe of a hung server soon after the router stopped waiting for it.
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

        var settings = builder.ConnectionStringBuilder;
        var (applicationOptions, maxPoolSize) = (settings.Options, settings.MaxPoolSize);
        builder.Name = endpoint.Name + " reads";
        settings.Options = string.IsNullOrWhiteSpace(applicationOptions) ? ReadOnlySession : applicationOptions + " " + ReadOnlySession;
        var readOnly = builder.Build();

        builder.Name = endpoint.Name + " probes";
        settings.Options = applicationOptions;
        settings.Pooling = true;
        settings.Multiplexing = false;
        settings.MinPoolSize = 0;
        settings.MaxPoolSize = 1;
        var probeSeconds = (int)Math.Ceiling(options.ProbeTimeout.TotalSeconds);
        settings.Timeout = Math.Clamp(probeSeconds, 1, 1024);
        settings.CommandTimeout = Math.Max(1, probeSeconds);
        settings.CancellationTimeout = -1;
        var probes = builder.Build();
        settings.MaxPoolSize = maxPoolSize;
        return new EndpointDataSources(connections, readOnly, probes);
    }

    private static NpgsqlConnectionStringBuilder Parse(string connectionString, string setting)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            // The message of the parser names the key, never the value (which may be a password).
            throw new ArgumentException($"{setting} is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }

        if (builder.Timeout == 0)
        {
            // Npgsql waits forever for a connection with Timeout=0: one hung server would hang every caller that opens to it.
            throw new ArgumentException($"{setting} has Timeout=0, which waits forever for a server that does not answer; set a connect timeout in seconds (Npgsql's default is 15).");
        }

        return builder;
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
