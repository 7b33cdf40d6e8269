using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Caching.Distributed;

namespace CachePatterns.Distributed;

/// <summary>
/// <see cref="IDistributedCache"/> over any provider, so ASP.NET Core sessions and output caching use it.
/// Sliding expiration is renewed by the read itself (no extra round trip); provider failures make reads
/// miss and writes be remembered for invalidation, as for the strategies.
/// </summary>
internal sealed class DistributedCacheAdapter : IDistributedCache
{
    private readonly ICacheStore<string, byte[]> _store;
    private readonly TimeProvider _time;
    private readonly StrategyInstruments _instruments;

    public DistributedCacheAdapter(ICacheStore<string, byte[]> store, TimeProvider time, StrategyInstruments instruments)
    {
        _store = store;
        _time = time;
        _instruments = instruments;
    }

    public byte[]? Get(string key) => Wait(GetAsync(key));

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        Guard.NotNullKey(key);
        var lookup = await _store.GetAsync(key, acquireLease: false, token).ConfigureAwait(false);
        if (lookup.Status == CacheLookupStatus.Hit && lookup.Value.Exists)
        {
            _instruments.Hit();
            return lookup.Value.Value;
        }

        _instruments.Miss();
        return null;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Wait(SetAsync(key, value, options));

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Guard.NotNullKey(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        await _store.SetAsync(key, CacheValue<byte[]>.Of(value), ToStoreOptions(options), token).ConfigureAwait(false);
    }

    public void Refresh(string key) => Wait(RefreshAsync(key));

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        Guard.NotNullKey(key);
        await _store.RefreshAsync(key, token).ConfigureAwait(false);
    }

    public void Remove(string key) => Wait(RemoveAsync(key));

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        Guard.NotNullKey(key);
        await _store.InvalidateAsync(key, token).ConfigureAwait(false);
    }

    internal StoreEntryOptions ToStoreOptions(DistributedCacheEntryOptions options)
    {
        TimeSpan? absolute = options.AbsoluteExpirationRelativeToNow;
        if (options.AbsoluteExpiration is { } at)
        {
            var relative = at - _time.GetUtcNow();
            if (relative <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), at, $"AbsoluteExpiration {at:O} is not in the future.");
            }

            absolute = absolute is { } r && r < relative ? r : relative;
        }

        if (absolute is { } a && a <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), a, $"AbsoluteExpirationRelativeToNow must be positive, but was {a}.");
        }

        if (options.SlidingExpiration is { } s && s <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), s, $"SlidingExpiration must be positive, but was {s}.");
        }

        return new StoreEntryOptions(absolute, options.SlidingExpiration);
    }

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();
}
