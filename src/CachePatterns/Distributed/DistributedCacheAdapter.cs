using System.Buffers;
using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Caching.Distributed;

namespace CachePatterns.Distributed;

/// <summary>
/// <see cref="IDistributedCache"/> over any provider, so ASP.NET Core sessions and output caching use it: argument
/// checks, expiration options and metrics here; what a provider failure means is the subclass's
/// (<see cref="StoreSemanticsAdapter"/>, <see cref="CacheSemanticsAdapter"/>). Sliding expiration is renewed by the read
/// itself (no extra round trip).
/// </summary>
/// <remarks>
/// It is also an <see cref="IBufferDistributedCache"/> (HybridCache uses it): the buffer methods copy through the
/// array ones, since every provider hands values back as arrays. The synchronous methods block on the asynchronous ones. Nothing below them captures a synchronization context
/// (every await is <c>ConfigureAwait(false)</c>), so they do not deadlock under one; they do hold a thread while waiting.
/// </remarks>
internal abstract class DistributedCacheAdapter : IBufferDistributedCache
{
    private readonly TimeProvider _time;

    protected DistributedCacheAdapter(TimeProvider time, StrategyInstruments instruments)
    {
        _time = time;
        Instruments = instruments;
    }

    protected StrategyInstruments Instruments { get; }

    public byte[]? Get(string key) => Wait(GetAsync(key));

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var value = await GetCoreAsync(key, token).ConfigureAwait(false);
        if (value.Exists)
        {
            Instruments.Hit();
            return value.Value;
        }

        Instruments.Miss();
        return null;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Wait(SetAsync(key, value, options));

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        await SetCoreAsync(key, value, ToStoreOptions(options), token).ConfigureAwait(false);
    }

    public void Refresh(string key) => Wait(RefreshAsync(key));

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await RefreshCoreAsync(key, token).ConfigureAwait(false);
    }

    public void Remove(string key) => Wait(RemoveAsync(key));

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await RemoveCoreAsync(key, token).ConfigureAwait(false);
    }

    public bool TryGet(string key, IBufferWriter<byte> destination) => Wait(TryGetAsync(key, destination).AsTask());

    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var value = await GetAsync(key, token).ConfigureAwait(false);
        if (value is null)
        {
            return false;
        }

        destination.Write(value);
        return true;
    }

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => Set(key, value.ToArray(), options);

    public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        await SetAsync(key, value.ToArray(), options, token).ConfigureAwait(false);

    /// <summary>
    /// The entry's expiration relative to now. Bad options throw <see cref="ArgumentOutOfRangeException"/> naming the
    /// property of <see cref="DistributedCacheEntryOptions"/> at fault (as <c>RedisCache</c> does).
    /// </summary>
#pragma warning disable CA2208 // The parameter names are the properties of DistributedCacheEntryOptions, as RedisCache reports them.
    internal StoreEntryOptions ToStoreOptions(DistributedCacheEntryOptions options)
    {
        TimeSpan? absolute = options.AbsoluteExpirationRelativeToNow;
        if (absolute is { } a && a <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options.AbsoluteExpirationRelativeToNow), a, "The relative expiration value must be positive.");
        }

        if (options.AbsoluteExpiration is { } at)
        {
            var relative = at - _time.GetUtcNow();
            if (relative <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options.AbsoluteExpiration), at, "The absolute expiration value must be in the future.");
            }

            absolute = absolute is { } r && r < relative ? r : relative;
        }

        if (options.SlidingExpiration is { } s && s <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options.SlidingExpiration), s, "The sliding expiration value must be positive.");
        }

        return new StoreEntryOptions(absolute, options.SlidingExpiration);
    }
#pragma warning restore CA2208

    /// <summary>Reads a key: its value, or <see cref="CacheValue{TValue}.NotFound"/> when absent.</summary>
    protected abstract ValueTask<CacheValue<byte[]>> GetCoreAsync(string key, CancellationToken cancellationToken);

    protected abstract ValueTask SetCoreAsync(string key, byte[] value, StoreEntryOptions options, CancellationToken cancellationToken);

    protected abstract ValueTask RefreshCoreAsync(string key, CancellationToken cancellationToken);

    protected abstract ValueTask RemoveCoreAsync(string key, CancellationToken cancellationToken);

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();
}
