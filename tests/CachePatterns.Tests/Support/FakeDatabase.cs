using System.Collections.Concurrent;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A thread-safe in-memory "database" of string values with random delays inside every read and write,
/// so loads overlap writes the way real queries do. Counts loads.
/// </summary>
public sealed class FakeDatabase : ICacheLoader<int, string>, ICacheWriter<int, string>
{
    private readonly ConcurrentDictionary<int, string> _rows = new();
    private readonly int _maxDelayMicroseconds;
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
        _rows[key] = value;
        await RandomDelayAsync().ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        await RandomDelayAsync().ConfigureAwait(false);
        _rows.TryRemove(key, out _);
        await RandomDelayAsync().ConfigureAwait(false);
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
