using CachePatterns.Strategies;

namespace CachePatterns.Internal;

/// <summary>
/// <see cref="ICache"/> over one <see cref="CacheStrategy{TKey, TValue}"/> per value type, created on first use and
/// found by <see cref="TypeSlot{T}"/> so the hit path stays a lookup plus an array index.
/// </summary>
internal sealed class AdHocCache : ICache
{
    private readonly CacheInstance _instance;
    private readonly CacheStrategyOptions _options;
    private readonly string _keyPrefix;
    private readonly string _strategyName;
    private readonly IReadOnlyList<Serialization.ICacheSerializerFactory>? _serializerFactories;
    private readonly bool _entriesCarryTags;
    private readonly Lock _gate = new();
    private object?[] _strategies = new object?[16];
    private Func<string, CancellationToken, ValueTask>[] _invalidators = [];

    public AdHocCache(CacheInstance instance, CacheStrategyOptions options)
        : this(instance, options, CacheInstance.AdHocKeyPrefix(instance.Name), "the ad-hoc ICache", instance.Name, serializerFactories: null, entriesCarryTags: false)
    {
    }

    /// <summary>
    /// Creates an ad-hoc cache with a key namespace of its own (the <c>HybridCache</c> adapter): its own prefix, its own
    /// strategy name in metrics and logs, serializer factories asked before the cache's (<see langword="null"/>: the cache's),
    /// and whether every entry it writes carries tags (<see cref="Providers.CacheStoreDescriptor{TKey, TValue}.EntriesCarryTags"/>).
    /// </summary>
    public AdHocCache(
        CacheInstance instance,
        CacheStrategyOptions options,
        string keyPrefix,
        string owner,
        string strategyName,
        IReadOnlyList<Serialization.ICacheSerializerFactory>? serializerFactories,
        bool entriesCarryTags)
    {
        _entriesCarryTags = entriesCarryTags;
        _instance = instance;
        _options = options;
        _keyPrefix = keyPrefix;
        _strategyName = strategyName;
        _serializerFactories = serializerFactories;
        instance.ClaimKeyPrefix(_keyPrefix, owner);
    }

    public string Name => _instance.Name;

    public ValueTask<TValue> GetOrLoadAsync<TState, TValue>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<TValue>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var strategy = StrategyFor<TValue>();
        return strategy.TryGetHit(key, out var value) ? new ValueTask<TValue>(value!) : LookUpOrLoadAsync(strategy, key, state, factory, options, cancellationToken);
    }

    /// <summary>The miss path, out of line so the hit above keeps a small frame (docs/benchmarks.md, "HybridCache implementations side by side").</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ValueTask<TValue> LookUpOrLoadAsync<TState, TValue>(
        CacheStrategy<string, TValue> strategy,
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<TValue>> factory,
        CacheEntryOptions? options,
        CancellationToken cancellationToken) =>
        strategy.LookUpOrLoadAsync(key, (State: state, Factory: factory, Options: options), static (_, s, ct) => LoadAsync(s.Factory(s.State, ct), s.Options), cancellationToken)!;

    public ValueTask<(bool Found, TValue? Value)> TryGetAsync<TValue>(string key, CancellationToken cancellationToken = default) =>
        StrategyFor<TValue>().TryGetAsync(key, cancellationToken);

    public ValueTask SetAsync<TValue>(string key, TValue value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) =>
        StrategyFor<TValue>().SetAsync(key, value, options, cancellationToken);

    public async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);
        var invalidators = Volatile.Read(ref _invalidators);
        foreach (var invalidate in invalidators)
        {
            await invalidate(key, cancellationToken).ConfigureAwait(false);
        }

        if (invalidators.Length == 0)
        {
            // Out-of-process providers may hold the key from another process: invalidate through any typed store.
            await StrategyFor<object>().InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken = default) =>
        _instance.InvalidateTagAsync(tag, cancellationToken);

    private static async ValueTask<LoadResult<TValue>> LoadAsync<TValue>(ValueTask<TValue> load, CacheEntryOptions? options) =>
        LoadResult.Found(await load.ConfigureAwait(false), options);

    private CacheStrategy<string, TValue> StrategyFor<TValue>()
    {
        var index = TypeSlot<TValue>.Index;
        var strategies = Volatile.Read(ref _strategies);
        if (index < strategies.Length && strategies[index] is CacheStrategy<string, TValue> existing)
        {
            return existing;
        }

        return CreateStrategy<TValue>(index);
    }

    private CacheStrategy<string, TValue> CreateStrategy<TValue>(int index)
    {
        lock (_gate)
        {
            var strategies = _strategies;
            if (index < strategies.Length && strategies[index] is CacheStrategy<string, TValue> existing)
            {
                return existing;
            }

            var created = _instance.CreateAdHocStrategy<TValue>(_strategyName, _keyPrefix, _options, _serializerFactories, _entriesCarryTags);
            var grown = new object?[Math.Max(strategies.Length, index + 1) * 2];
            Array.Copy(strategies, grown, strategies.Length);
            grown[index] = created;
            Volatile.Write(ref _strategies, grown);
            Volatile.Write(ref _invalidators, [.. _invalidators, created.InvalidateAsync]);
            return created;
        }
    }
}
