namespace CachePatterns.Redis.Internal;

/// <summary>
/// The Lua scripts that carry out the provider contract atomically on the server (one round trip each).
/// KEYS are always <c>[1] value, [2] lease, [3] writes</c> of one key; all three share the hash tag so they live in one
/// Cluster slot. Times come from the server's <c>TIME</c>, so every client agrees on expiry whatever its own clock.
/// StackExchange.Redis sends them with EVALSHA once the server knows them (EVAL the first time, and again after a
/// SCRIPT FLUSH or restart).
/// </summary>
/// <remarks>
/// <para>Writes (hash <c>W</c>): <c>n</c> counts writes in flight; <c>last</c> is the token of the latest <c>BeginWrite</c>,
/// reset to <c>0</c> by every invalidation, set and end of a write, so a completion stores only if it is the sole and
/// latest write. Lease (string <c>L</c>): the holder's random token, with <c>PX LeaseTimeout</c>.</para>
/// <para>Every script declares its flags (<c>#!lua flags=…</c>, Redis 7), so the server applies <c>maxmemory</c> before it
/// runs: a script that may add data (<see cref="Get"/> with its lease, <see cref="Fill"/>, <see cref="Set"/>,
/// <see cref="BeginWrite"/>, <see cref="CompleteWrite"/>) is refused with <c>OOM</c> by a full <c>noeviction</c> server
/// before it writes anything, while the ones that only read, delete or rewrite in place (<c>allow-oom</c>) keep working,
/// so hits are served and keys are still invalidated. A script without flags is checked by Redis only before its first
/// write, so the leading <c>DEL</c> of the old scripts let every later <c>SET</c> past the limit.</para>
/// <para>The envelope's layout and the read replies are not repeated here: <see cref="RedisEnvelope.LuaDefinitions"/> and
/// <see cref="RedisReadReply.LuaDefinitions"/> define them as Lua locals.</para>
/// </remarks>
internal static class RedisScripts
{
    /// <summary>May add data: refused by a full server.</summary>
    private const string Writes = "#!lua\n";

    /// <summary>Only reads, deletes or rewrites in place: runs on a full server too.</summary>
    private const string Shrinks = "#!lua flags=allow-oom\n";

    /// <summary>Writes nothing: may run on a replica (<c>EVAL_RO</c>).</summary>
    private const string ReadOnly = "#!lua flags=no-writes\n";

    /// <summary>The server clock in Unix ms.</summary>
    private const string Clock = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end

        """;

    /// <summary>
    /// Reading an envelope (with sliding renewal). With a tag prefix (single server), an entry one of whose tags was
    /// invalidated after its stamp is deleted and read as a miss (<see cref="RedisTags.LuaCheck"/>).
    /// </summary>
    private const string Read = RedisTags.LuaCheck + """
        -- MISS, HIT, STALE or CORRUPT (a header that is not ours, deleted); the stored bytes; for a stale entry, ms since it expired
        local function read(key, now, renew, tag_prefix)
          local v = redis.call('GET', key)
          if not v then return MISS, false, 0 end
          if #v < HEADER_LENGTH or string.byte(v, 1) ~= ENVELOPE_VERSION then
            redis.call('DEL', key)
            return CORRUPT, false, 0
          end
          if not tags_valid(v, tag_prefix) then
            redis.call('DEL', key)
            return MISS, false, 0
          end
          local _, _, expires, sliding, deadline, retention = struct.unpack(ENVELOPE, v)
          if expires == 0 or now < expires then
            if renew and sliding > 0 then
              local renewed = now + sliding
              if deadline > 0 and deadline < renewed then renewed = deadline end
              if renewed > expires then
                redis.call('SETRANGE', key, EXPIRES_OFFSET, struct.pack('<i8', renewed))
                redis.call('PEXPIRE', key, math.max(1, renewed - now + retention))
              end
            end
            return HIT, v, 0
          end
          return STALE, v, now - expires
        end

        """;

    /// <summary>Storing an envelope: payload, flags, absolute ms (-1: none), sliding ms (0: none), retention ms.</summary>
    private const string Store = """
        local function store(key, payload, flags, abs, sliding, retention)
          local now = now_ms()
          local deadline = 0
          if abs >= 0 then deadline = now + abs end
          local expires = deadline
          if sliding > 0 then
            expires = now + sliding
            if deadline > 0 and deadline < expires then expires = deadline end
          end
          local env = struct.pack(ENVELOPE, ENVELOPE_VERSION, flags, expires, sliding, deadline, retention) .. payload
          if expires > 0 then
            redis.call('SET', key, env, 'PX', math.max(1, expires - now + retention))
          else
            redis.call('SET', key, env)
          end
        end

        """;

    /// <summary>Ending a write: decrements the writes in flight, tells whether this one was the sole and latest.</summary>
    private const string EndWriteCommon = """
        local function end_write(token)
          redis.call('DEL', KEYS[2])
          if redis.call('EXISTS', KEYS[3]) == 0 then return false end
          local n = redis.call('HINCRBY', KEYS[3], 'n', -1)
          local latest = redis.call('HGET', KEYS[3], 'last') == token
          if n <= 0 then redis.call('DEL', KEYS[3]) else redis.call('HSET', KEYS[3], 'last', '0') end
          return n <= 0 and latest
        end

        """;

    private static readonly string Definitions = RedisEnvelope.LuaDefinitions + RedisReadReply.LuaDefinitions;

    /// <summary>
    /// ARGV: acquire lease (0/1), lease token, lease ms, tag version prefix ('' on a Cluster: the client checks tags).
    /// Returns a <see cref="RedisReadReply"/>; <c>HELD</c> when another client holds the lease. May add the lease key, so a
    /// full server refuses it (the core then reads without a lease).
    /// </summary>
    public static readonly string Get = Writes + Definitions + Clock + Read + """
        local s, v, late = read(KEYS[1], now_ms(), true, ARGV[4])
        local corrupt = 0
        if s == CORRUPT then s = MISS; corrupt = 1 end
        if s == HIT or ARGV[1] ~= '1' then return reply(s, v, 0, corrupt, late) end
        if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return reply(HELD, v, 0, corrupt, late) end
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        return reply(s, v, 1, corrupt, late)
        """;

    /// <summary>
    /// The plain read by script (no lease) when the client cannot judge a plain GET (no clock sample, sliding, corrupt,
    /// near the deadline, tagged), KEYS[1] = value only, ARGV[1] the tag version prefix ('' on a Cluster). Renews a sliding entry and deletes a corrupt header like
    /// <see cref="Get"/>. Returns nil for a miss, the stored bytes alone (one bulk string, the cheapest reply to read) for a
    /// hit, and a <see cref="RedisReadReply"/> otherwise (stale, or a deleted corrupt entry). Runs on a full server.
    /// </summary>
    public static readonly string GetPlain = Shrinks + Definitions + Clock + Read + """
        local s, v, late = read(KEYS[1], now_ms(), true, ARGV[1])
        if s == MISS then return false end
        if s == HIT then return v end
        if s == CORRUPT then return reply(MISS, false, 0, 1) end
        return reply(STALE, v, 0, 0, late)
        """;

    /// <summary>
    /// A plain read that writes nothing, for <c>EVAL_RO</c>/<c>EVALSHA_RO</c> on a replica. No ARGV. Returns a
    /// <see cref="RedisReadReply"/> whose renew flag is set when a sliding entry has less than half its window left, so the
    /// client renews it on the primary (a replica cannot). A corrupt header answers <c>CORRUPT</c> with the bytes (not deleted here).
    /// </summary>
    public static readonly string GetReadOnly = ReadOnly + Definitions + Clock + """
        local v = redis.call('GET', KEYS[1])
        if not v then return reply(MISS, false) end
        if #v < HEADER_LENGTH or string.byte(v, 1) ~= ENVELOPE_VERSION then return reply(CORRUPT, v) end
        local now = now_ms()
        local _, _, expires, sliding, deadline = struct.unpack(ENVELOPE, v)
        if expires == 0 or now < expires then
          local renew = 0
          if sliding > 0 and expires - now < sliding / 2 and (deadline == 0 or expires < deadline) then renew = 1 end
          return reply(HIT, v, 0, 0, 0, renew)
        end
        return reply(STALE, v, 0, 0, now - expires)
        """;

    /// <summary>Renews a fresh entry's sliding window. No ARGV.</summary>
    public static readonly string Refresh = Shrinks + Definitions + Clock + Read + """
        read(KEYS[1], now_ms(), true)
        return 1
        """;

    /// <summary>ARGV: lease token, payload, flags, absolute ms, sliding ms, retention ms. Returns 1 if stored.</summary>
    public static readonly string Fill = Writes + Definitions + Clock + Store + """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
        store(KEYS[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
        return 1
        """;

    /// <summary>ARGV: lease token. Deletes the lease only if it is still ours.</summary>
    public const string Release = Shrinks + """
        if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
        return 1
        """;

    /// <summary>ARGV: payload, flags, absolute ms, sliding ms, retention ms. Revokes leases and outdates writes in flight.</summary>
    public static readonly string Set = Writes + Definitions + Clock + Store + """
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        store(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
        return 1
        """;

    /// <summary>No ARGV. Removes the value, revokes leases, outdates writes in flight. Returns how many values were removed.</summary>
    public const string Invalidate = Shrinks + """
        redis.call('DEL', KEYS[2])
        if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'last', '0') end
        return redis.call('DEL', KEYS[1])
        """;

    /// <summary>ARGV: stored bytes. Deletes the value only if it still holds exactly those bytes (a corrupt payload).</summary>
    public const string DeleteIfEqual = Shrinks + """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    /// <summary>ARGV: write token, write ms. Revokes leases, registers the write as the latest one.</summary>
    public const string BeginWrite = Writes + """
        redis.call('DEL', KEYS[2])
        redis.call('HINCRBY', KEYS[3], 'n', 1)
        redis.call('HSET', KEYS[3], 'last', ARGV[1])
        redis.call('PEXPIRE', KEYS[3], ARGV[2])
        return 1
        """;

    /// <summary>
    /// ARGV: write token, payload, flags, absolute ms, sliding ms, retention ms. Ends a successful write: stores the value
    /// if this was the sole and latest write, else removes the key. Revokes leases. Returns 1 if stored. A write whose
    /// registration expired (or was never seen) only removes. A full server refuses it: the core then ends the write with
    /// <see cref="AbortWrite"/>.
    /// </summary>
    public static readonly string CompleteWrite = Writes + Definitions + Clock + Store + EndWriteCommon + """
        if end_write(ARGV[1]) then
          store(KEYS[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
          return 1
        end
        redis.call('DEL', KEYS[1])
        return 0
        """;

    /// <summary>ARGV: write token. Ends a write that failed or whose value is not cached: removes the key, revokes leases.</summary>
    public const string AbortWrite = Shrinks + EndWriteCommon + """
        end_write(ARGV[1])
        redis.call('DEL', KEYS[1])
        return 0
        """;

    /// <summary>
    /// Store semantics (<see cref="RedisDurableScripts"/>): ARGV write id, ids kept, ids ms, payload, flags, absolute ms,
    /// sliding ms, retention ms. Like <see cref="Set"/> unless the write id was applied already. Refused by a full server.
    /// </summary>
    public static readonly string DurableStore = Writes + Definitions + Clock + Store + RedisDurableScripts.WriteIds + RedisDurableScripts.StoreBody;

    /// <summary>Store semantics: ARGV write id, ids kept, ids ms. Like <see cref="Invalidate"/> unless applied already; runs on a full server.</summary>
    public static readonly string DurableDelete = Shrinks + RedisDurableScripts.WriteIds + RedisDurableScripts.DeleteBody;
}
