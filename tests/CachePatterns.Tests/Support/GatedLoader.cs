namespace CachePatterns.Tests.Support;

/// <summary>
/// A loader that counts its loads and holds each one until <see cref="Gate"/> opens: a slow database, so another
/// caller or process meets a fill lease that is held for as long as the test wants.
/// </summary>
public sealed class GatedLoader : ICacheLoader<int, string>
{
    private int _loads;

    /// <summary>Gets the gate every load waits for.</summary>
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets how many loads started.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <inheritdoc />
    public async ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await Gate.Task.WaitAsync(cancellationToken);
        return LoadResult.Found($"loaded-{key}");
    }
}
