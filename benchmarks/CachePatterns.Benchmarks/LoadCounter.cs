namespace CachePatterns.Benchmarks;

/// <summary>A factory body for get-or-create APIs: counts its invocations and waits like a database query.</summary>
public sealed class LoadCounter
{
    private int _loads;

    public int Loads => Volatile.Read(ref _loads);

    public async ValueTask<Product> LoadAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        await Task.Delay(delay, cancellationToken);
        return Product.Sample;
    }
}
