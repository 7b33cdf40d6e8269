using System.Collections.Concurrent;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A thread-safe in-memory "database" of string values with random delays inside every read and write,
/// so loads overlap writes the way real queries do. Counts loads.
/// </summary>
public sealed class FakeDatabase : ICheckedDatabase
{
    private readonly ConcurrentDictionary<int, string> _rows = new();
    private readonly int _maxDelayMicroseconds;
    private readonly Lock _commits = new();
    private readonly Dictionary<string, long> _commitOfValue = new(StringComparer.Ordinal);
    private readonly Dictionary<int, long> _lastDelete = new();
    private readonly ConcurrentDictionary<int, long> _floors = new();
    private long _commit;
    private int _loads;

    public FakeDatabase(int maxDelayMicroseconds = 0) => _maxDelayMicroseconds = maxDelayMicroseconds;

    public int Loads => Volatile.Read(ref _loads);

    public IReadOnlyDictionary<int, string> Rows => _rows;

    public void Seed(int key, string value) => _rows[key] = value;

    public bool TryRead(int key, out string? value) => _rows.TryGetValue(key, out value);

    public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await RandomDelayAsync().ConfigureAwait(false);
        var found = _rows.TryGetValue(key, out var value);

        // The window between reading the row and returning it is where a concurrent write makes this result stale.
        await RandomDelayAsync().ConfigureAwait(false);
        return found ? LoadResult.Found(value!) : LoadResult.NotFound<string>();
    }

    public async ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await RandomDelayAsync().ConfigureAwait(false);
        var results = new Dictionary<int, LoadResult<string>>();
        foreach (var key in keys)
        {
            if (_rows.TryGetValue(key, out var value))
            {
                results[key] = LoadResult.Found(value);
            }
        }

        await RandomDelayAsync().ConfigureAwait(false);
        return results;
    }

    public async ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
    {
        await RandomDelayAsync().ConfigureAwait(false);
        lock (_commits)
        {
            _rows[key] = value;
            _commitOfValue[value] = ++_commit;
            CommitReceipt.Record(_commit);
        }

        await RandomDelayAsync().ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        await RandomDelayAsync().ConfigureAwait(false);
        lock (_commits)
        {
            _rows.TryRemove(key, out _);
            _lastDelete[key] = ++_commit;
            CommitReceipt.Record(_commit);
        }

        await RandomDelayAsync().ConfigureAwait(false);
    }

    public void Complete(int key, long commit) => _floors.AddOrUpdate(key, commit, (_, floor) => Math.Max(floor, commit));

    public long Floor(int key) => _floors.GetValueOrDefault(key);

    public bool IsAtLeast(int key, string? value, long floor)
    {
        lock (_commits)
        {
            // Seeded values have commit 0; a delete is judged by the newest delete of the key so far.
            return (value is null ? _lastDelete.GetValueOrDefault(key) : _commitOfValue.GetValueOrDefault(value)) >= floor;
        }
    }

    private async ValueTask RandomDelayAsync()
    {
        if (_maxDelayMicroseconds == 0)
        {
            return;
        }

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
                // A real asynchronous wait: the continuation resumes on another thread, later.
                await Task.Delay(TimeSpan.FromMicroseconds(Random.Shared.Next(_maxDelayMicroseconds))).ConfigureAwait(false);
                break;
        }
    }
}
