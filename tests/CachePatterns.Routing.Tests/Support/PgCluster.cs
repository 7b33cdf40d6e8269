using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace CachePatterns.Routing.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL 15 cluster: one primary and streaming replicas on free 127.0.0.1 ports, data in a temp folder
/// owned by the <c>postgres</c> user when we are root (the server refuses root), fsync off, TLS on (self-signed, optional
/// for clients). Replicas may replay with a fixed delay
/// (<c>recovery_min_apply_delay</c>) so lag is deterministic. Fails, never skips, when PostgreSQL is not installed.
/// Also linked into the benchmarks, so it uses nothing of xunit.
/// </summary>
public sealed class PgCluster : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string OsUser = "postgres";
    private readonly string _root;

    private PgCluster(string root, List<PgNode> nodes)
    {
        _root = root;
        Nodes = nodes;
    }

    /// <summary>Gets the nodes: [0] the primary, then the replicas in the order asked for.</summary>
    public IReadOnlyList<PgNode> Nodes { get; }

    public PgNode Primary => Nodes[0];

    /// <summary>A host list with every node (roles to be discovered).</summary>
    public string HostList => "Host=" + string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.Port}")) + ";Username=postgres;Database=postgres;Timeout=3;Command Timeout=10";

    /// <summary>Starts a primary and one replica per entry of <paramref name="replicaDelays"/> (zero: no apply delay).</summary>
    public static async Task<PgCluster> StartAsync(params TimeSpan[] replicaDelays)
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15's server programs are not in {BinDirectory}. The router's tests run against a real cluster: install them " +
                "(Debian: apt-get install postgresql postgresql-client openssl; ./test.sh does this when run as root).");
        }

        var root = Path.Combine(Path.GetTempPath(), "cachepatterns-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        if (IsRoot)
        {
            await RunAsync("chown", [OsUser, root], asPostgres: false);
        }

        var nodes = new List<PgNode>();
        var cluster = new PgCluster(root, nodes);
        try
        {
            var primary = new PgNode(cluster, Path.Combine(root, "n0"), FreePort(), "n0");
            await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", primary.DataDirectory, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-instructions"]);
            await primary.AppendConfigAsync(
                $"""
                port = {primary.Port}
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '{root}'
                wal_level = replica
                max_wal_senders = 10
                wal_keep_size = '256MB'
                hot_standby = on
                fsync = off
                full_page_writes = off
                shared_buffers = '16MB'
                max_connections = 60
                wal_receiver_status_interval = '1s'
                """);
            // TLS with a throw-away self-signed certificate (pg_basebackup copies it to the replicas), for the TLS test.
            await RunAsync("/bin/sh", ["-c", $"cd '{primary.DataDirectory}' && openssl req -new -x509 -days 2 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.crt 2>/dev/null && chmod 600 server.key"]);
            await primary.AppendConfigAsync("ssl = on");

            // Role "app" logs in with a password (scram), for the credential tests; everyone else is trusted.
            await RunAsync("/bin/sh", ["-c", $"sed -i '1i host all app 127.0.0.1/32 scram-sha-256' '{Path.Combine(primary.DataDirectory, "pg_hba.conf")}'"]);
            nodes.Add(primary);
            await primary.StartAsync();

            for (var i = 0; i < replicaDelays.Length; i++)
            {
                var replica = new PgNode(cluster, Path.Combine(root, $"n{i + 1}"), FreePort(), $"n{i + 1}");
                await RunAsync(Path.Combine(BinDirectory, "pg_basebackup"), ["-h", "127.0.0.1", "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-D", replica.DataDirectory, "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
                var delay = replicaDelays[i] > TimeSpan.Zero ? $"recovery_min_apply_delay = '{(int)replicaDelays[i].TotalMilliseconds}ms'" : string.Empty;
                await replica.AppendConfigAsync($"port = {replica.Port}\nprimary_conninfo = 'host=127.0.0.1 port={primary.Port} user=postgres application_name={replica.Name}'\n{delay}\n");
                nodes.Add(replica);
                await replica.StartAsync();
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.StopQuietlyAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A server still shutting down may hold a file; the temp folder is cleaned by the OS.
        }
    }

    /// <summary>Waits until every running replica (or those of <c>only</c>) has replayed everything the primary has written so far.</summary>
    public async Task WaitForReplicasAsync(TimeSpan timeout, params PgNode[] only)
    {
        var target = await Primary.ScalarAsync<long>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
        var watch = Stopwatch.StartNew();
        foreach (var replica in only.Length > 0 ? only : Nodes.Skip(1).Where(n => n.IsRunning))
        {
            while (await replica.ScalarAsync<long>("SELECT pg_wal_lsn_diff(COALESCE(pg_last_wal_replay_lsn(), '0/0'), '0/0')::bigint") < target)
            {
                if (watch.Elapsed > timeout)
                {
                    throw new TimeoutException($"Replica {replica.Name} did not replay up to {target} within {timeout.TotalSeconds:0} s.");
                }

                await Task.Delay(25);
            }
        }
    }

    internal static async Task RunAsync(string program, IEnumerable<string> arguments, bool asPostgres = true)
    {
        asPostgres &= IsRoot;
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/tmp",
        };
        if (asPostgres)
        {
            foreach (var arg in new[] { "-u", OsUser, "--", program })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>PostgreSQL refuses to run as root: as root the server programs run as the <c>postgres</c> user, otherwise as we are.</summary>
    private static bool IsRoot => Environment.UserName == "root";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One server of a <see cref="PgCluster"/>.</summary>
public sealed class PgNode(PgCluster cluster, string dataDirectory, int port, string name)
{
    public PgCluster Cluster { get; } = cluster;

    public string DataDirectory { get; } = dataDirectory;

    public int Port { get; } = port;

    public string Name { get; } = name;

    public bool IsRunning { get; private set; }

    /// <summary>A connection string to this node alone (no pooling, so stopping the node leaves nothing behind).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3;Command Timeout=10";

    public async Task StartAsync()
    {
        await PgCluster.RunAsync(Path.Combine(PgCluster.BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start"]);
        IsRunning = true;
    }

    /// <summary>Stops the server at once, like a crash (<c>-m immediate</c>).</summary>
    public async Task KillAsync()
    {
        await PgCluster.RunAsync(Path.Combine(PgCluster.BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        IsRunning = false;
    }

    /// <summary>Gets a value indicating whether the server's processes are stopped (<see cref="FreezeAsync"/>).</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>
    /// Stops every process of the server with SIGSTOP (the postmaster and each backend): the server keeps its sockets open
    /// and the kernel keeps accepting connections, but nothing answers — a hung server, not a dead one.
    /// </summary>
    public async Task FreezeAsync()
    {
        await SignalAllAsync("STOP");
        IsFrozen = true;
    }

    /// <summary>Resumes a frozen server (SIGCONT).</summary>
    public async Task ThawAsync()
    {
        await SignalAllAsync("CONT");
        IsFrozen = false;
    }

    /// <summary>Points this replica's WAL receiver at <paramref name="port"/> (a closed one cuts it off), without a restart.</summary>
    public Task SetUpstreamPortAsync(int port) => SetAsync("primary_conninfo", $"host=127.0.0.1 port={port} user=postgres application_name={Name}");

    /// <summary>Sets a server setting with ALTER SYSTEM and reloads the configuration.</summary>
    public async Task SetAsync(string setting, string value)
    {
        await ExecuteAsync($"ALTER SYSTEM SET {setting} = '{value.Replace("'", "''", StringComparison.Ordinal)}'");
        await ExecuteAsync("SELECT pg_reload_conf()");
    }

    public Task PromoteAsync() => PgCluster.RunAsync(Path.Combine(PgCluster.BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-w", "-t", "60", "promote"]);

    public async Task StopQuietlyAsync()
    {
        if (!IsRunning)
        {
            return;
        }

        if (IsFrozen)
        {
            await ThawAsync();
        }

        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Signals the postmaster (first line of postmaster.pid) and all its children, by process id.</summary>
    private async Task SignalAllAsync(string signal)
    {
        var postmaster = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First().Trim();
        var children = File.ReadAllText($"/proc/{postmaster}/task/{postmaster}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        await PgCluster.RunAsync("kill", ["-" + signal, postmaster, .. children], asPostgres: false);
    }

    /// <summary>Appends settings to postgresql.auto.conf, read last, so they win over what initdb or pg_basebackup wrote.</summary>
    public Task AppendConfigAsync(string lines) =>
        PgCluster.RunAsync("/bin/sh", ["-c", $"cat >> '{Path.Combine(DataDirectory, "postgresql.auto.conf")}' <<'EOF'\n{lines}\nEOF"]);

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
