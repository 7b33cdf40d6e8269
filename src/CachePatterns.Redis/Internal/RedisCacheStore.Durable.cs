using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The store semantics: one script each (<see cref="RedisDurableScripts"/>), idempotent per write id. A failure is only
/// thrown: unlike <see cref="SetAsync"/> and <see cref="InvalidateAsync"/>, nothing goes to <see cref="PendingInvalidations"/>,
/// whose replay after a stall would delete the value a later write stored.
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
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await db.ScriptEvaluateAsync(RedisDurableScripts.Store, keys, [writeId.Value, IdsKept, IdsRetentionMs, payload, Flags(value), abs, sliding, retention])
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask<bool> DeleteAsync(TKey key, CacheWriteId writeId, CancellationToken cancellationToken)
    {
        var keys = DurableKeys(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await db.ScriptEvaluateAsync(RedisDurableScripts.Delete, keys, [writeId.Value, IdsKept, IdsRetentionMs])
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        var outcome = (long)result;
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
