namespace CachePatterns.Tests.Support;

/// <summary>
/// Passes every call through to the strategy under test and prints <c>midway</c> once this process has finished
/// <c>writes</c> writes and deletes, so a test can inject its fault (cut the connection, stop Redis) while the workload runs.
/// </summary>
public sealed class MidwaySignal(ICacheStrategy<int, string> inner, int writes) : ICacheStrategy<int, string>
{
    private int _done;

    public string Name => inner.Name;

    public ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

    public ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default) => inner.TryGetAsync(key, cancellationToken);

    public ValueTask<IReadOnlyDictionary<int, string>> GetManyAsync(IEnumerable<int> keys, CancellationToken cancellationToken = default) => inner.GetManyAsync(keys, cancellationToken);

    public ValueTask<string?> GetOrLoadAsync<TState>(int key, TState state, Func<int, TState, CancellationToken, ValueTask<LoadResult<string>>> factory, CancellationToken cancellationToken = default) =>
        inner.GetOrLoadAsync(key, state, factory, cancellationToken);

    public async ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(key, value, options, cancellationToken);
        Count();
    }

    public async ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default)
    {
        await inner.RemoveAsync(key, cancellationToken);
        Count();
    }

    public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default) => inner.InvalidateAsync(key, cancellationToken);

    private void Count()
    {
        if (Interlocked.Increment(ref _done) == writes)
        {
            Console.WriteLine("midway");
        }
    }
}
