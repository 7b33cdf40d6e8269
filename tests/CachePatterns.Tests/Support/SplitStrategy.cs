namespace CachePatterns.Tests.Support;

/// <summary>
/// One <see cref="ICacheStrategy{TKey, TValue}"/> face over two strategies in two DI containers: every call goes to one
/// of them at random, so the checker's writers and readers are split across two "processes" sharing one database and one cache.
/// </summary>
public sealed class SplitStrategy(ICacheStrategy<int, string> one, ICacheStrategy<int, string> two) : ICacheStrategy<int, string>
{
    private ICacheStrategy<int, string> Pick => Random.Shared.Next(2) == 0 ? one : two;

    public string Name => one.Name;

    public ValueTask<string?> GetAsync(int key, CancellationToken cancellationToken = default) => Pick.GetAsync(key, cancellationToken);

    public ValueTask<(bool Found, string? Value)> TryGetAsync(int key, CancellationToken cancellationToken = default) => Pick.TryGetAsync(key, cancellationToken);

    public ValueTask<IReadOnlyDictionary<int, string>> GetManyAsync(IEnumerable<int> keys, CancellationToken cancellationToken = default) => Pick.GetManyAsync(keys, cancellationToken);

    public ValueTask<string?> GetOrLoadAsync<TState>(int key, TState state, Func<int, TState, CancellationToken, ValueTask<LoadResult<string>>> factory, CancellationToken cancellationToken = default) =>
        Pick.GetOrLoadAsync(key, state, factory, cancellationToken);

    public ValueTask WriteAsync(int key, string value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) => Pick.WriteAsync(key, value, options, cancellationToken);

    public ValueTask RemoveAsync(int key, CancellationToken cancellationToken = default) => Pick.RemoveAsync(key, cancellationToken);

    public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken = default) => Pick.InvalidateAsync(key, cancellationToken);
}
