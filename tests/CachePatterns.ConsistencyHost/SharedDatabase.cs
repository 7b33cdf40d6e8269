using System.Globalization;
using Microsoft.Data.Sqlite;

namespace CachePatterns.Tests.Support;

/// <summary>
/// The checker's database shared by several OS processes: one SQLite file (WAL, no fsync) holding the rows, every
/// commit's sequence number, and the floors writers publish when a write has finished. Loads and writes have the same
/// random delays around the row access as <c>FakeDatabase</c>, so loads overlap writes the way real queries do.
/// </summary>
public sealed class SharedDatabase : ICheckedDatabase, IDisposable
{
    private readonly string _connectionString;
    private readonly Mutex _writeLock;
    private readonly int _maxDelayMicroseconds;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _commitOfValue = new(StringComparer.Ordinal);
    private int _loads;

    public SharedDatabase(string path, int maxDelayMicroseconds)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        _maxDelayMicroseconds = maxDelayMicroseconds;

        // Writers of both processes take turns through a named mutex instead of SQLite's busy handler, which sleeps
        // whole milliseconds on every conflict (WAL readers never wait either way).
        _writeLock = new Mutex(initiallyOwned: false, $"cachepatterns-checker-{(uint)StringComparer.Ordinal.GetHashCode(Path.GetFullPath(path)):x8}");
    }

    public int Loads => Volatile.Read(ref _loads);

    public void Dispose() => _writeLock.Dispose();

    /// <summary>Creates the schema (once, by the process that owns the file).</summary>
    public void Create()
    {
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS rows (key INTEGER PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS commits (value TEXT PRIMARY KEY, seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS deletes (key INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS floors (key INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS completions (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
            INSERT OR IGNORE INTO clock VALUES (0, 0);
            """);
    }

    public void Seed(int key, string value)
    {
        using var connection = Open();
        Execute(connection, "INSERT OR REPLACE INTO rows VALUES ($k, $v); INSERT OR REPLACE INTO commits VALUES ($v, 0);", key, value);
    }

    public bool TryRead(int key, out string? value)
    {
        using var connection = Open();
        value = Read(connection, key);
        return value is not null;
    }

    public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await RandomDelayAsync().ConfigureAwait(false);
        string? value;
        using (var connection = Open())
        {
            value = Read(connection, key);
        }

        // The window between reading the row and returning it is where a concurrent write makes this result stale. It is
        // longer than a write here (a load is a query plus the network), so writes of other processes finish inside it.
        await RandomDelayAsync().ConfigureAwait(false);
        await SlowLoadAsync().ConfigureAwait(false);
        return value is null ? LoadResult.NotFound<string>() : LoadResult.Found(value);
    }

    public async ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await RandomDelayAsync().ConfigureAwait(false);
        var results = new Dictionary<int, LoadResult<string>>();
        using (var connection = Open())
        {
            foreach (var key in keys)
            {
                if (Read(connection, key) is { } value)
                {
                    results[key] = LoadResult.Found(value);
                }
            }
        }

        await RandomDelayAsync().ConfigureAwait(false);
        return results;
    }

    public async ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
    {
        await RandomDelayAsync().ConfigureAwait(false);
        Commit("INSERT OR REPLACE INTO rows VALUES ($k, $v); INSERT INTO commits VALUES ($v, $seq);", key, value);
        await RandomDelayAsync().ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        await RandomDelayAsync().ConfigureAwait(false);
        Commit("DELETE FROM rows WHERE key = $k; INSERT OR REPLACE INTO deletes VALUES ($k, $seq);", key, null);
        await RandomDelayAsync().ConfigureAwait(false);
    }

    public void Complete(int key, long commit)
    {
        using var connection = Open();
        _writeLock.WaitOne();
        try
        {
            Execute(connection, "INSERT INTO floors VALUES ($k, $seq) ON CONFLICT (key) DO UPDATE SET seq = max(seq, excluded.seq);", key, null, commit);
            Execute(connection, "INSERT OR IGNORE INTO completions VALUES ($seq, $v);", key, System.Diagnostics.Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture), commit);
        }
        finally
        {
            _writeLock.ReleaseMutex();
        }
    }

    public long Floor(int key)
    {
        using var connection = Open();
        return Scalar(connection, "SELECT seq FROM floors WHERE key = $k", key, null);
    }

    public long? CompletedAt(long commit)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT at FROM completions WHERE seq = $seq", 0, null, commit);
        return command.ExecuteScalar() is { } at and not DBNull ? Convert.ToInt64(at, CultureInfo.InvariantCulture) : null;
    }

    public bool IsAtLeast(int key, string? value, long floor)
    {
        // A value's commit never changes once it has been read back: looked up once per process.
        if (value is not null && _commitOfValue.TryGetValue(value, out var known))
        {
            return known >= floor;
        }

        using var connection = Open();
        if (value is null)
        {
            return Scalar(connection, "SELECT seq FROM deletes WHERE key = $k", key, null) >= floor;
        }

        var commit = _commitOfValue[value] = Scalar(connection, "SELECT seq FROM commits WHERE value = $v", key, value);
        return commit >= floor;
    }

    /// <summary>One write transaction: takes the next commit number, runs <paramref name="sql"/> with it, records the receipt.</summary>
    private void Commit(string sql, int key, string? value)
    {
        using var connection = Open();
        _writeLock.WaitOne();
        try
        {
            Execute(connection, "BEGIN IMMEDIATE");
            try
            {
                var seq = Scalar(connection, "UPDATE clock SET seq = seq + 1 WHERE id = 0 RETURNING seq", key, null);
                Execute(connection, sql, key, value, seq);
                Execute(connection, "COMMIT");
                CommitReceipt.Record(seq);
            }
            catch
            {
                Execute(connection, "ROLLBACK");
                throw;
            }
        }
        finally
        {
            _writeLock.ReleaseMutex();
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = OFF;");
        return connection;
    }

    private static string? Read(SqliteConnection connection, int key)
    {
        using var command = Command(connection, "SELECT value FROM rows WHERE key = $k", key, null, 0);
        return command.ExecuteScalar() as string;
    }

    private static void Execute(SqliteConnection connection, string sql, int key = 0, string? value = null, long seq = 0)
    {
        using var command = Command(connection, sql, key, value, seq);
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql, int key, string? value)
    {
        using var command = Command(connection, sql, key, value, 0);
        return command.ExecuteScalar() is { } result and not DBNull ? Convert.ToInt64(result, CultureInfo.InvariantCulture) : 0;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, int key, string? value, long seq)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", (object?)value ?? DBNull.Value);
        command.Parameters.AddWithValue("$seq", seq);
        return command;
    }

    private static async ValueTask SlowLoadAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(2, 10))).ConfigureAwait(false);
    }

    private async ValueTask RandomDelayAsync()
    {
        switch (Random.Shared.Next(4))
        {
            case 0:
                break;
            case 1:
                await Task.Yield();
                break;
            case 2:
                Thread.SpinWait(Random.Shared.Next(_maxDelayMicroseconds * 10));
                break;
            default:
                await Task.Delay(TimeSpan.FromMicroseconds(Random.Shared.Next(_maxDelayMicroseconds))).ConfigureAwait(false);
                break;
        }
    }
}
