using System.Collections.Concurrent;

namespace CachePatterns.Tests.Support;

/// <summary>
/// A thread-safe in-memory "database" for the strategies under test: a loader and writer of
/// <c>int → string</c> rows that counts every call, so tests can tell a cache hit from a load.
/// </summary>
public sealed class TestDatabase : ICacheLoader<int, string>, ICacheWriter<int, string>
{
    private readonly ConcurrentDictionary<int, string> _rows = new();
    private readonly ConcurrentQueue<int> _loadedKeys = new();
    private readonly ConcurrentQueue<int[]> _bulkLoads = new();
    private int _loads;
    private int _writes;
    private int _deletes;

    /// <summary>Gets or sets a function deciding the load result from the key and the row (null when absent); null uses Found/NotFound.</summary>
    public Func<int, string?, LoadResult<string>>? ResultFor { get; set; }

    /// <summary>Gets or sets an exception every load throws while set.</summary>
    public Exception? LoadFailure { get; set; }

    /// <summary>Gets or sets an exception every write and delete throws while set.</summary>
    public Exception? WriteFailure { get; set; }

    /// <summary>Gets the number of single-key loads (<see cref="LoadAsync"/> calls).</summary>
    public int LoadCount => Volatile.Read(ref _loads);

    /// <summary>Gets the keys of every single-key load, in order.</summary>
    public IReadOnlyList<int> LoadedKeys => [.. _loadedKeys];

    /// <summary>Gets the keys of every bulk load (<see cref="LoadManyAsync"/> calls), in order.</summary>
    public IReadOnlyList<int[]> BulkLoads => [.. _bulkLoads];

    public int WriteCount => Volatile.Read(ref _writes);

    public int DeleteCount => Volatile.Read(ref _deletes);

    public TestDatabase Seed(int key, string value)
    {
        _rows[key] = value;
        return this;
    }

    public string? Row(int key) => _rows.TryGetValue(key, out var value) ? value : null;

    public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        _loadedKeys.Enqueue(key);
        try
        {
            return ValueTask.FromResult(Load(key));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<LoadResult<string>>(ex);
        }
    }

    public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        _bulkLoads.Enqueue([.. keys]);
        var results = new Dictionary<int, LoadResult<string>>();
        foreach (var key in keys)
        {
            var result = Load(key);

            // Like a SQL "WHERE id IN (...)": rows that do not exist are simply absent.
            if (result.Found || ResultFor is not null)
            {
                results[key] = result;
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(results);
    }

    public ValueTask WriteAsync(int key, string value, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writes);
        if (WriteFailure is { } failure)
        {
            return ValueTask.FromException(failure);
        }

        _rows[key] = value;
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _deletes);
        if (WriteFailure is { } failure)
        {
            return ValueTask.FromException(failure);
        }

        _rows.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    private LoadResult<string> Load(int key)
    {
        if (LoadFailure is { } failure)
        {
            throw failure;
        }

        var row = Row(key);
        if (ResultFor is { } resultFor)
        {
            return resultFor(key, row);
        }

        return row is null ? LoadResult.NotFound<string>() : LoadResult.Found(row);
    }
}
