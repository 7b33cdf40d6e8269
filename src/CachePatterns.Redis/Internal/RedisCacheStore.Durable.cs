using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The store semantics: one script each (<see cref="RedisScripts.DurableStore"/>, <see cref="RedisScripts.DurableDelete"/>),
/// idempotent per write id (<see cref="RedisDurableScripts"/>). A failure is translated and thrown, nothing else.
/// </summary>
internal sealed partial class RedisCacheStore<TKey, TValue>
{
    private static readonly RedisValue IdsKept = RedisDurableScripts.IdsKept;
    private static readonly RedisValue IdsRetentionMs = RedisDurableScripts.IdsRetentionMs;

    public async ValueTask<bool> StoreAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        var keys = DurableKeys(key);
        var payload = Serialize(keys[0], value);
        var (abs, sliding, retention) = Expiration(options);
        NoteSliding(options);
        var result = await RunAsync(RedisScripts.DurableStore, keys, [writeId.Value, IdsKept, IdsRetentionMs, payload, Flags(value), abs, sliding, retention], cancellationToken)
            .ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        var outcome = (long)await RunAsync(RedisScripts.DurableDelete, DurableKeys(key), [writeId.Value, IdsKept, IdsRetentionMs], cancellationToken)
            .ConfigureAwait(false);
        if (outcome == 2)
        {
            _descriptor.Observer?.OnEvicted(CacheEvictionReason.Removed, 1);
        }

        return outcome >= 1;
    }

    /// <summary>The keys of <see cref="Keys"/> plus the write ids list <c>{…}:d</c> (same hash tag).</summary>
    private RedisKey[] DurableKeys(TKey key)
    {
        var keys = Keys(key);
        return [keys[0], keys[1], keys[2], (string)keys[0]! + ":d"];
    }
}
