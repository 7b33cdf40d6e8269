namespace CachePatterns.Benchmarks;

/// <summary>
/// A loader that counts its invocations and, when given a delay, waits like a database query.
/// With <see cref="TimeSpan.Zero"/> it completes synchronously.
/// </summary>
public sealed class CountingLoader : ICacheLoader<int, Product>
{
    private readonly TimeSpan _delay;
    private int _loads;

    public CountingLoader(TimeSpan delay) => _delay = delay;

    public int Loads => Volatile.Read(ref _loads);

    public ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        return _delay == TimeSpan.Zero
            ? new ValueTask<LoadResult<Product>>(LoadResult.Found(Product.Sample))
            : LoadSlowlyAsync(cancellationToken);
    }

    private async ValueTask<LoadResult<Product>> LoadSlowlyAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(_delay, cancellationToken);
        return LoadResult.Found(Product.Sample);
    }
}
