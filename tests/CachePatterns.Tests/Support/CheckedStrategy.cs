namespace CachePatterns.Tests.Support;

/// <summary>
/// The base of the stand-in strategies the consistency checkers run (deliberately naive caches, peers): they implement the
/// single-key calls the checker makes; the batch read goes key by key through <see cref="GetAsync"/>, and the state overload
/// the checker never calls is refused.
/// </summary>
public abstract class CheckedStrategy : ICacheStrategy<int, string>
{
    public abstract string Name { get; }

    public abstract ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default);

    public abstract ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default);

    public abstract ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    public abstract ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default);

    public abstract ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default);

    public async ValueTask<IReadOnlyDictionary<int, string>> GetManyAsync(IEnumerable<int> keys, CancellationToken cancellationToken = default)
    {
        var results = new Dictionary<int, string>();
        foreach (var key in keys.Distinct())
        {
            if (await GetAsync(key, cancellationToken) is { } value)
            {
                results[key] = value;
            }
        }

        return results;
    }

    public ValueTask<string?> GetOrLoadAsync<TState>(int key, TState state, Func<int, TState, CancellationToken, ValueTask<LoadResult<string>>> factory, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The consistency checkers' stand-ins implement only the calls the checkers make.");
}
