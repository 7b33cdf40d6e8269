using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace CachePatterns.Routing.Tests.Support;

/// <summary>
/// A throw-away MariaDB cluster from Debian's <c>mariadb-server</c>: one primary and GTID replicas (optionally delayed with
/// <c>MASTER_DELAY</c>) as local processes on free 127.0.0.1 ports, data in a temp folder, the servers running as the
/// <c>mysql</c> user when we are root (through <c>setpriv</c>, which execs, so the process we hold is the server itself).
/// Accounts and the <c>app</c> database are created on every node before replication starts (not binlogged), so every node
/// is usable at once and a promoted replica already has them. The application's account (<c>app</c>) has no
/// <c>READ_ONLY ADMIN</c>, so read-only replicas refuse its writes. Fails, never skips, when MariaDB is not installed.
/// Also linked into the benchmarks, so it uses nothing of xunit. Recipe checked by hand: ../shared/reference/mariadb.md.
/// </summary>
public sealed class MariaDbCluster : IAsyncDisposable
{
    public const string ServerProgram = "/usr/sbin/mariadbd";
    public const string InstallProgram = "/usr/bin/mariadb-install-db";
    public const string AppUser = "app";
    public const string AppPassword = "apppw";
    public const string Database = "app";
    private const string OsUser = "mysql";
    private const string ReplicationUser = "repl";
    private const string ReplicationPassword = "replpw";

    // One initialised datadir per test process, copied for each node (MariaDB keeps no per-server identity in it).
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? s_template;
    private readonly string _root;

    private MariaDbCluster(string root, List<MariaDbNode> nodes)
    {
        _root = root;
        Nodes = nodes;
    }

    /// <summary>Gets the nodes: [0] the first primary, then the replicas in the order asked for.</summary>
    public IReadOnlyList<MariaDbNode> Nodes { get; }

    public MariaDbNode Primary => Nodes[0];

    /// <summary>A router connection string listing every node (<c>Server=h:p,h:p</c>; roles to be discovered).</summary>
    public string HostList => "Server=" + string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.Port}")) + $";User ID={AppUser};Password={AppPassword};Database={Database};Connection Timeout=3;Default Command Timeout=10";

    /// <summary>Starts a primary and one replica per entry of <paramref name="replicaDelays"/> (zero: no <c>MASTER_DELAY</c>).</summary>
    public static async Task<MariaDbCluster> StartAsync(params TimeSpan[] replicaDelays)
    {
        if (!File.Exists(ServerProgram) || !File.Exists(InstallProgram))
        {
            throw new InvalidOperationException(
                $"MariaDB's server programs ({ServerProgram}, {InstallProgram}) are missing. The router's MariaDB tests run against a real cluster: " +
                "install them (Debian: apt-get install mariadb-server mariadb-client; ./test.sh does this when run as root).");
        }

        var root = Path.Combine(Path.GetTempPath(), "cp-my-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        await PrepareDirectoryAsync(root);
        var nodes = new List<MariaDbNode>();
        var cluster = new MariaDbCluster(root, nodes);
        try
        {
            var template = await TemplateAsync();
            for (var i = 0; i <= replicaDelays.Length; i++)
            {
                var node = new MariaDbNode(cluster, Path.Combine(root, $"n{i}"), FreePort(), $"my{i}", serverId: i + 1);
                Directory.CreateDirectory(node.Folder);
                await RunAsync("cp", ["-a", template, node.DataDirectory]);
                if (IsRoot)
                {
                    await RunAsync("chown", ["-R", $"{OsUser}:", node.Folder]);
                }

                nodes.Add(node);
            }

            foreach (var node in nodes)
            {
                node.Start(readOnly: node != nodes[0]);
            }

            foreach (var node in nodes)
            {
                await node.WaitUntilUpAsync(TimeSpan.FromSeconds(60), retryOnPortTaken: true);
                await node.AdminExecuteAsync(
                    $"""
                    SET SESSION sql_log_bin = 0;
                    CREATE USER '{ReplicationUser}'@'127.0.0.1' IDENTIFIED BY '{ReplicationPassword}';
                    GRANT REPLICATION SLAVE ON *.* TO '{ReplicationUser}'@'127.0.0.1';
                    CREATE USER '{AppUser}'@'127.0.0.1' IDENTIFIED BY '{AppPassword}';
                    GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, SLAVE MONITOR ON *.* TO '{AppUser}'@'127.0.0.1';
                    CREATE DATABASE {Database};
                    """);
            }

            for (var i = 0; i < replicaDelays.Length; i++)
            {
                await nodes[i + 1].FollowAsync(nodes[0], replicaDelays[i]);
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
            node.StopQuietly();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A server still shutting down may hold a file; the temp folder is cleaned by the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }

        await Task.CompletedTask;
    }

    /// <summary>Waits until every running replica that follows a primary has applied everything the writer has written so far.</summary>
    public async Task WaitForReplicasAsync(MariaDbNode writer, TimeSpan timeout)
    {
        var target = await writer.ScalarAsync<string>("SELECT @@gtid_binlog_pos");
        foreach (var replica in Nodes.Where(n => n != writer && n.IsRunning && n.IsReplica))
        {
            var seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            var result = await replica.ScalarAsync<int>($"SELECT MASTER_GTID_WAIT('{target}', {seconds})");
            if (result != 0)
            {
                throw new TimeoutException($"Replica {replica.Name} did not apply up to {target} within {timeout.TotalSeconds:0} s.");
            }
        }
    }

    public Task WaitForReplicasAsync(TimeSpan timeout) => WaitForReplicasAsync(Primary, timeout);

    internal static async Task RunAsync(string program, IEnumerable<string> arguments, bool asServerUser = false)
    {
        asServerUser &= IsRoot;
        var start = new ProcessStartInfo(asServerUser ? "setpriv" : program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/tmp",
        };
        if (asServerUser)
        {
            foreach (var arg in AsServerUser.Append(program))
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

    /// <summary>The prefix that runs a program as the server's user when we are root; <c>setpriv</c> execs (no fork).</summary>
    internal static IEnumerable<string> AsServerUser => ["--reuid=" + OsUser, "--regid=" + OsUser, "--init-groups", "--"];

    /// <summary>MariaDB refuses to run as root: as root the server programs run as the <c>mysql</c> user, otherwise as we are.</summary>
    internal static bool IsRoot => Environment.UserName == "root";

    /// <summary>Options for install-db and every start; <c>--no-defaults</c> must come first (else /etc/mysql/my.cnf is read).</summary>
    internal static string[] CommonOptions => ["--no-defaults", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M"];

    /// <summary>
    /// A port free now, below the ephemeral range (32768+), so outgoing connections of other processes on this shared
    /// machine (replication links, clients) cannot take it between this check and the server's bind.
    /// </summary>
    internal static int FreePort()
    {
        while (true)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
    }

    /// <summary>Every folder above a datadir must be traversable by the server's user (temp folders are 0700).</summary>
    private static async Task PrepareDirectoryAsync(string directory)
    {
        await RunAsync("chmod", ["755", directory]);
        if (IsRoot)
        {
            await RunAsync("chown", [$"{OsUser}:", directory]);
        }
    }

    private static async Task<string> TemplateAsync()
    {
        await TemplateGate.WaitAsync();
        try
        {
            if (s_template is not null && Directory.Exists(s_template))
            {
                return s_template;
            }

            var folder = Path.Combine(Path.GetTempPath(), "cp-my-template-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            Directory.CreateDirectory(folder);
            await PrepareDirectoryAsync(folder);
            var data = Path.Combine(folder, "data");
            await RunAsync(InstallProgram, [.. CommonOptions, "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"], asServerUser: true);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                }
            };
            return s_template = data;
        }
        finally
        {
            TemplateGate.Release();
        }
    }
}

/// <summary>One server of a <see cref="MariaDbCluster"/>, a process of ours (killed, stopped and continued by its id).</summary>
public sealed class MariaDbNode(MariaDbCluster cluster, string folder, int port, string name, int serverId) : IClusterNode
{
    private Process? _process;
    private bool _readOnly;

    public MariaDbCluster Cluster { get; } = cluster;

    public string Folder { get; } = folder;

    public string DataDirectory => Path.Combine(Folder, "data");

    public int Port { get; private set; } = port;

    public string Name { get; } = name;

    public int ServerId { get; } = serverId;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Gets a value indicating whether this node was last told to follow a primary.</summary>
    public bool IsReplica { get; private set; }

    /// <summary>A connection string of the application's account to this node alone.</summary>
    public string ConnectionString => $"Server=127.0.0.1;Port={Port};User ID={MariaDbCluster.AppUser};Password={MariaDbCluster.AppPassword};Database={MariaDbCluster.Database};Connection Timeout=3;Default Command Timeout=10";

    /// <summary>The administrator's connection (root bypasses read_only: never write through it on a replica).</summary>
    private string AdminConnectionString => $"Server=127.0.0.1;Port={Port};User ID=root;Connection Timeout=3;Default Command Timeout=30;Pooling=false;Allow User Variables=true";

    /// <summary>Starts the server (again, after a kill, on the same data and port).</summary>
    public void Start(bool readOnly)
    {
        _readOnly = readOnly;
        string[] options =
        [
            .. MariaDbCluster.CommonOptions,
            "--datadir=" + DataDirectory,
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--bind-address=127.0.0.1",
            "--socket=" + Path.Combine(Folder, "s.sock"),
            "--pid-file=" + Path.Combine(Folder, "m.pid"),
            "--log-error=" + Path.Combine(Folder, "error.log"),
            "--server-id=" + ServerId.ToString(CultureInfo.InvariantCulture),
            "--log-bin=mysql-bin",
            "--relay-log=relay-bin",
            "--log-slave-updates=ON",
            "--gtid-domain-id=0",
            "--gtid-strict-mode=ON",
            "--skip-name-resolve",
            "--max-connections=200",
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--innodb-buffer-pool-dump-at-shutdown=OFF",
            "--innodb-buffer-pool-load-at-startup=OFF",
            "--read-only=" + (readOnly ? "ON" : "OFF"),
        ];

        // sh execs setpriv, which execs mariadbd: the process we hold is the server itself; its output goes to a file.
        var command = MariaDbCluster.IsRoot
            ? "exec setpriv " + string.Join(' ', MariaDbCluster.AsServerUser) + " " + MariaDbCluster.ServerProgram
            : "exec " + MariaDbCluster.ServerProgram;
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/tmp" };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{command} \"$@\" </dev/null >>'{Path.Combine(Folder, "stdout.log")}' 2>&1");
        start.ArgumentList.Add("mariadbd");
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        _process = Process.Start(start)!;
    }

    /// <summary>Waits until the server accepts the administrator's connections; fails at once with its log if it exits.</summary>
    public async Task WaitUntilUpAsync(TimeSpan timeout, bool retryOnPortTaken = false)
    {
        var watch = Stopwatch.StartNew();
        var retries = retryOnPortTaken ? 3 : 0;
        while (true)
        {
            if (_process is { HasExited: true } && retries-- > 0 && ReadLog().Contains("Address already in use", StringComparison.Ordinal))
            {
                // Another process on this shared machine took the port between our check and the bind: take another.
                File.Delete(Path.Combine(Folder, "error.log"));
                Port = MariaDbCluster.FreePort();
                Start(_readOnly);
                continue;
            }

            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"MariaDB node {Name} (port {Port}) exited with {_process.ExitCode}:\n{ReadLog()}");
            }

            try
            {
                await using var connection = new MySqlConnection(AdminConnectionString);
                await connection.OpenAsync();
                return;
            }
            catch (MySqlException) when (watch.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Makes this node a GTID replica of <paramref name="primary"/> (read-only, reconnecting every second).</summary>
    public async Task FollowAsync(MariaDbNode primary, TimeSpan delay)
    {
        var delaySeconds = (int)Math.Ceiling(delay.TotalSeconds);
        await AdminExecuteAsync(
            $"""
            STOP SLAVE;
            SET GLOBAL read_only = 1;
            CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.Port}, MASTER_USER='repl', MASTER_PASSWORD='replpw',
                MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY={delaySeconds};
            START SLAVE;
            """);
        IsReplica = true;
    }

    /// <summary>Promotes this replica: replication stopped and forgotten, writable.</summary>
    public async Task PromoteAsync()
    {
        await AdminExecuteAsync("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0;");
        IsReplica = false;
    }

    /// <summary>Cuts this replica's link to its primary: it keeps trying a port where nothing listens (IO thread "Connecting").</summary>
    public Task CutReplicationLinkAsync() =>
        AdminExecuteAsync($"STOP SLAVE; CHANGE MASTER TO MASTER_PORT={MariaDbCluster.FreePort()}; START SLAVE;");

    /// <summary>Stops the server at once, like a crash (SIGKILL), and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Freezes the server (SIGSTOP): it keeps its sockets open and answers nothing.</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>Lets a frozen server run again (SIGCONT).</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    public void StopQuietly()
    {
        if (_process is not { } process)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
        _process = null;
    }

    /// <summary>Runs statements as the application's account.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Reads one value as the application's account.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs statements as root (replication control; never writes on a replica).</summary>
    public async Task AdminExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>One column of <c>SHOW SLAVE STATUS</c> (null when the node replicates from nobody).</summary>
    public async Task<string?> ReplicaStatusAsync(string column)
    {
        await using var connection = new MySqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW SLAVE STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? reader[column]?.ToString() : null;
    }

    private async Task SignalAsync(string signal)
    {
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException($"MariaDB node {Name} is not running.");
        }

        await MariaDbCluster.RunAsync("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
    }

    private string ReadLog()
    {
        var log = Path.Combine(Folder, "error.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no error log)";
    }
}
