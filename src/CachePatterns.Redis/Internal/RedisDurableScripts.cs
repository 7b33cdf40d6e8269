namespace CachePatterns.Redis.Internal;

/// <summary>
/// The store semantics' scripts (<c>ICacheStore.StoreAsync</c>, <c>DeleteAsync</c>). KEYS are those of
/// <see cref="RedisScripts"/> plus <c>[4] ids</c>: a list of the latest write ids applied to the key (at most
/// <see cref="IdsKept"/>, expiring <see cref="IdsRetentionMs"/> after the last write), so a retry or a late duplicate of
/// a write that was already applied is not applied again and cannot undo a newer write.
/// </summary>
internal static class RedisDurableScripts
{
    /// <summary>How many write ids a key remembers.</summary>
    public const int IdsKept = 16;

    /// <summary>How long a key's write ids are kept after its last write: 15 minutes, far longer than any retry waits.</summary>
    public const long IdsRetentionMs = 15 * 60 * 1000;

    /// <summary>The write ids list: <c>seen(ids, id)</c>, <c>applied(ids, id)</c> (ARGV[2] ids kept, ARGV[3] ids ms).</summary>
    public const string WriteIds = """
        local function seen(ids, id)
          for _, v in ipairs(redis.call('LRANGE', ids, 0, -1)) do
            if v == id then return true end
          end
          return false
        end
        local function applied(ids, id)
          redis.call('LPUSH', ids, id)
          redis.call('LTRIM', ids, 0, tonumber(ARGV[2]) - 1)
          redis.call('PEXPIRE', ids, ARGV[3])
        end

        """;

    /// <summary>The body of <see cref="RedisScripts.DurableStore"/>. Returns 1 if applied, 0 if the id was applied already.</summary>
    public const string StoreBody = """
        if seen(KEYS[4], ARGV[1]) then return 0 end
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        store(KEYS[1], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]))
        applied(KEYS[4], ARGV[1])
        return 1
        """;

    /// <summary>The body of <see cref="RedisScripts.DurableDelete"/>. Returns 0 if the id was applied already, else 1 plus the number of values removed.</summary>
    public const string DeleteBody = """
        if seen(KEYS[4], ARGV[1]) then return 0 end
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        local removed = redis.call('DEL', KEYS[1])
        applied(KEYS[4], ARGV[1])
        return 1 + removed
        """;
}
