namespace CachePatterns.Redis.Internal;

/// <summary>
/// The Lua scripts that carry out the provider contract atomically on the server (one round trip each).
/// KEYS are always <c>[1] value, [2] lease, [3] writes</c> of one key; all three share the hash tag so they live in one
/// Cluster slot. Times come from the server's <c>TIME</c>, so every client agrees on expiry whatever its own clock.
/// StackExchange.Redis sends them with EVALSHA once the server knows them (EVAL the first time, and again after a
/// SCRIPT FLUSH or restart).
/// </summary>
/// <remarks>
/// Writes (hash <c>W</c>): <c>n</c> counts writes in flight; <c>last</c> is the token of the latest <c>BeginWrite</c>,
/// reset to <c>0</c> by every invalidation, set and end of a write, so a completion stores only if it is the sole and
/// latest write. Lease (string <c>L</c>): the holder's random token, with <c>PX LeaseTimeout</c>.
/// </remarks>
internal static class RedisScripts
{
    /// <summary>Shared functions: the server clock, storing an envelope, reading one (with sliding renewal).</summary>
    internal const string Common = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        -- payload, flags, absolute ms (-1: none), sliding ms (0: none), retention ms
        local function store(key, payload, flags, abs, sliding, retention)
          local now = now_ms()
          local deadline = 0
          if abs >= 0 then deadline = now + abs end
          local expires = deadline
          if sliding > 0 then
            expires = now + sliding
            if deadline > 0 and deadline < expires then expires = deadline end
          end
          local env = struct.pack('<BBi8i8i8i8', 1, flags, expires, sliding, deadline, retention) .. payload
          if expires > 0 then
            redis.call('SET', key, env, 'PX', math.max(1, expires - now + retention))
          else
            redis.call('SET', key, env)
          end
        end
        -- 0 miss, 1 hit, 2 stale, 9 corrupt header (deleted); the stored bytes; for a stale entry, ms since it expired
        local function read(key, now, renew)
          local v = redis.call('GET', key)
          if not v then return 0, false, 0 end
          if #v < 34 or string.byte(v, 1) ~= 1 then
            redis.call('DEL', key)
            return 9, false, 0
          end
          local _, _, expires, sliding, deadline, retention = struct.unpack('<BBi8i8i8i8', v)
          if expires == 0 or now < expires then
            if renew and sliding > 0 then
              local renewed = now + sliding
              if deadline > 0 and deadline < renewed then renewed = deadline end
              if renewed > expires then
                redis.call('SETRANGE', key, 2, struct.pack('<i8', renewed))
                redis.call('PEXPIRE', key, math.max(1, renewed - now + retention))
              end
            end
            return 1, v, 0
          end
          return 2, v, now - expires
        end

        """;

    /// <summary>
    /// ARGV: acquire lease (0/1), lease token, lease ms. Returns {status, value, lease granted, corrupt, ms since a stale
    /// value expired (server clock)}; status 3 = lease held elsewhere.
    /// </summary>
    public const string Get = Common + """
        local s, v, late = read(KEYS[1], now_ms(), true)
        local corrupt = 0
        if s == 9 then s = 0; corrupt = 1 end
        if s == 1 or ARGV[1] ~= '1' then return {s, v, 0, corrupt, late} end
        if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return {3, v, 0, corrupt, late} end
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        return {s, v, 1, corrupt, late}
        """;

    /// <summary>
    /// The plain read by script (no lease) when the client cannot judge a plain GET (no clock sample, sliding, corrupt,
    /// near the deadline), KEYS[1] = value only, no ARGV, no function definitions. Renews a sliding
    /// entry and deletes a corrupt header like <see cref="Get"/>. Returns nil for a miss, the stored bytes alone (one
    /// bulk string, the cheapest reply to read) for a hit, <c>{0, false, 0, 1}</c> for a deleted corrupt entry and
    /// <c>{2, value, 0, 0, ms since expiry}</c> when stale.
    /// </summary>
    public const string GetPlain = """
        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        if #v < 34 or string.byte(v, 1) ~= 1 then
          redis.call('DEL', KEYS[1])
          return {0, false, 0, 1}
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local _, _, expires, sliding, deadline, retention = struct.unpack('<BBi8i8i8i8', v)
        if expires == 0 or now < expires then
          if sliding > 0 then
            local renewed = now + sliding
            if deadline > 0 and deadline < renewed then renewed = deadline end
            if renewed > expires then
              redis.call('SETRANGE', KEYS[1], 2, struct.pack('<i8', renewed))
              redis.call('PEXPIRE', KEYS[1], math.max(1, renewed - now + retention))
            end
          end
          return v
        end
        return {2, v, 0, 0, now - expires}
        """;

    /// <summary>
    /// A plain read that writes nothing, for <c>EVAL_RO</c>/<c>EVALSHA_RO</c> on a replica. No ARGV. Returns the shape of
    /// <see cref="Get"/> plus <c>[6] renew</c>: 1 when a sliding entry has less than half its window left, so the client
    /// renews it on the primary (a replica cannot). A corrupt header answers status 9 with the bytes (not deleted here).
    /// </summary>
    public const string GetReadOnly = """
        local v = redis.call('GET', KEYS[1])
        if not v then return {0, false, 0, 0, 0, 0} end
        if #v < 34 or string.byte(v, 1) ~= 1 then return {9, v, 0, 0, 0, 0} end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local _, _, expires, sliding, deadline = struct.unpack('<BBi8i8i8', v)
        if expires == 0 or now < expires then
          local renew = 0
          if sliding > 0 and expires - now < sliding / 2 and (deadline == 0 or expires < deadline) then renew = 1 end
          return {1, v, 0, 0, 0, renew}
        end
        return {2, v, 0, 0, now - expires, 0}
        """;

    /// <summary>Renews a fresh entry's sliding window. No ARGV.</summary>
    public const string Refresh = Common + """
        read(KEYS[1], now_ms(), true)
        return 1
        """;

    /// <summary>ARGV: lease token, payload, flags, absolute ms, sliding ms, retention ms. Returns 1 if stored.</summary>
    public const string Fill = Common + """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
        store(KEYS[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
        return 1
        """;

    /// <summary>ARGV: lease token. Deletes the lease only if it is still ours.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
        return 1
        """;

    /// <summary>ARGV: payload, flags, absolute ms, sliding ms, retention ms. Revokes leases and outdates writes in flight.</summary>
    public const string Set = Common + """
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        store(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
        return 1
        """;

    /// <summary>No ARGV. Removes the value, revokes leases, outdates writes in flight. Returns how many values were removed.</summary>
    public const string Invalidate = """
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        return redis.call('DEL', KEYS[1])
        """;

    /// <summary>ARGV: stored bytes. Deletes the value only if it still holds exactly those bytes (a corrupt payload).</summary>
    public const string DeleteIfEqual = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    /// <summary>ARGV: write token, write ms. Revokes leases, registers the write as the latest one.</summary>
    public const string BeginWrite = """
        redis.call('DEL', KEYS[2])
        redis.call('HINCRBY', KEYS[3], 'n', 1)
        redis.call('HSET', KEYS[3], 'last', ARGV[1])
        redis.call('PEXPIRE', KEYS[3], ARGV[2])
        return 1
        """;

    /// <summary>
    /// ARGV: write token, store (0/1), payload, flags, absolute ms, sliding ms, retention ms. Ends a write: stores the value if
    /// asked and this was the sole and latest write, else removes the key. Revokes leases. Returns 1 if stored.
    /// A write whose registration expired (or was never seen) only removes.
    /// </summary>
    public const string EndWrite = Common + """
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 0 then
          redis.call('DEL', KEYS[1])
          return 0
        end
        local n = redis.call('HINCRBY', KEYS[3], 'n', -1)
        local latest = redis.call('HGET', KEYS[3], 'last') == ARGV[1]
        if n <= 0 then redis.call('DEL', KEYS[3]) else redis.call('HSET', KEYS[3], 'last', '0') end
        if ARGV[2] == '1' and n <= 0 and latest then
          store(KEYS[1], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
          return 1
        end
        redis.call('DEL', KEYS[1])
        return 0
        """;
}
