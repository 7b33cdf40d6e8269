using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Tags on Redis (docs/architecture.md and docs/providers.md, "Tags"): one logical clock and one version per tag, all under
/// the hash tag <c>{InstanceName~tags}</c>, so they share one Cluster slot and one script can touch any of them.
/// </summary>
/// <remarks>
/// <para><b>Clock</b> (<c>{…}:clock</c>, no expiry): server Unix ms, advanced by each tag invalidation to
/// <c>max(clock + 1, now)</c>, so a clock lost to eviction or a flush starts again above every value it had (unless the
/// server's clock stepped back). A lease carries the clock read with it (<see cref="ReadStampAsync"/>): the load begins
/// after that read. <b>Tag version</b> (<c>{…}:t:&lt;tag&gt;</c>): the clock value of the tag's last invalidation.</para>
/// <para>An entry stores its stamp and tags (<see cref="EncodeSection"/>); it is valid while every tag's version exists and is
/// at most its stamp. A missing version fails closed (the entry is a miss): it may have been evicted after an
/// invalidation. So each store of a tagged entry creates its missing versions at the current clock (entries stamped
/// earlier become misses: conservative) and extends them to the entry's lifetime (<see cref="CheckAfterStoreAsync"/>), and
/// an invalidation only raises versions that exist (a missing one already fails every entry).</para>
/// <para>The check is made where the entry is read: for a key whose tags the store remembers (<see cref="RedisTagGuesses"/>),
/// by an <c>MGET</c> of the versions sent with the entry's <c>GET</c> (one round trip; two nodes at once on a Cluster);
/// otherwise inside the read scripts on a single server (one round trip), or by one <c>MGET</c> in the tags' slot after the
/// entry on a Cluster or a replica (a second round trip).</para>
/// </remarks>
internal sealed class RedisTags(string instanceName)
{
    /// <summary>The server clock in Unix ms, and the tag clock (created at the server clock when missing).</summary>
    private const string ClockFunctions = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function read_clock(key)
          local c = redis.call('GET', key)
          if c then return tonumber(c) end
          local n = now_ms()
          redis.call('SET', key, string.format('%d', n))
          return n
        end

        """;

    /// <summary>KEYS[1] = clock. Returns the clock (creating it when missing): the stamp of a lease or a set.</summary>
    public const string ReadClockScript = "#!lua\n" + ClockFunctions + """
        return string.format('%d', read_clock(KEYS[1]))
        """;

    /// <summary>
    /// KEYS[1] = clock, KEYS[2] = the tag's version; ARGV: the near caches' channel ('' for none), this client's source id,
    /// the tag. Advances the clock, raises the version if it exists, then publishes the tag's invalidation (kind <c>t</c> of
    /// <see cref="RedisInvalidationMessage"/>), so no near cache hears it before the version is raised.
    /// </summary>
    public const string InvalidateScript = "#!lua flags=allow-oom\n" + ClockFunctions + """
        local n = math.max(read_clock(KEYS[1]) + 1, now_ms())
        redis.call('SET', KEYS[1], string.format('%d', n))
        if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('SET', KEYS[2], string.format('%d', n), 'KEEPTTL') end
        if ARGV[1] ~= '' then
          local t = redis.call('TIME')
          redis.pcall('PUBLISH', ARGV[1], '1|t|' .. t[1] .. string.format('%06d', tonumber(t[2])) .. '|' .. ARGV[2] .. '|' .. ARGV[3])
        end
        return 1
        """;

    /// <summary>
    /// After a tagged entry is stored. KEYS[1] = clock, KEYS[2..] = the entry's tag versions; ARGV: the entry's stamp, the
    /// versions' lifetime in ms (0: none). Creates missing versions at the clock, extends the others' lifetime (never shortens
    /// it), and returns 1 when every version is at most the stamp (the entry is valid), else 0.
    /// </summary>
    public const string CheckAfterStoreScript = "#!lua\n" + ClockFunctions + """
        local stamp, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
        local valid, clock = 1, nil
        for i = 2, #KEYS do
          local v = redis.call('GET', KEYS[i])
          if not v then
            clock = clock or read_clock(KEYS[1])
            v = string.format('%d', clock)
            if ttl > 0 then redis.call('SET', KEYS[i], v, 'PX', ttl) else redis.call('SET', KEYS[i], v) end
          elseif ttl > 0 then
            redis.call('PEXPIRE', KEYS[i], ttl, 'GT')
          else
            redis.call('PERSIST', KEYS[i])
          end
          if tonumber(v) > stamp then valid = 0 end
        end
        return valid
        """;

    /// <summary>
    /// The Lua check of an entry's tags inside the read scripts on a single server: <c>tags_valid(stored, prefix)</c> reads
    /// the versions (keys named from the entry, not declared: allowed outside a Cluster only). An empty prefix skips the check
    /// (a Cluster: the client checks).
    /// </summary>
    public const string LuaCheck = """
        local function tags_valid(v, prefix)
          if prefix == nil or prefix == '' or bit.band(string.byte(v, 2), TAGGED_FLAG) == 0 then return true end
          if #v < HEADER_LENGTH + 10 then return false end
          local stamp, n, pos = struct.unpack('<i8I2', v, HEADER_LENGTH + 1)
          for i = 1, n do
            local len
            len, pos = struct.unpack('<I2', v, pos)
            local version = redis.call('GET', prefix .. string.sub(v, pos, pos + len - 1))
            if not version or tonumber(version) > stamp then return false end
            pos = pos + len
          end
          return true
        end

        """;

    private readonly string _slot = "{" + instanceName + "~tags}";

    /// <summary>Gets the prefix of every tag version key: <c>{InstanceName~tags}:t:</c>.</summary>
    public string VersionKeyPrefix { get; } = "{" + instanceName + "~tags}:t:";

    private RedisKey ClockKey => _slot + ":clock";

    private RedisKey VersionKey(string tag) => VersionKeyPrefix + tag;

    /// <summary>Reads the clock: the stamp of a lease (sent with the lease script, in the same batch).</summary>
    public Task<RedisResult> ReadStampAsync(IDatabaseAsync db) => db.ScriptEvaluateAsync(ReadClockScript, [ClockKey]);

    /// <summary>Parses <see cref="ReadStampAsync"/>'s reply.</summary>
    public static long ParseStamp(RedisResult result) => long.Parse((string)result!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Invalidates <paramref name="tag"/> and publishes it to the near caches (<see cref="InvalidateScript"/>).</summary>
    public Task<RedisResult> InvalidateAsync(IDatabaseAsync db, string tag, RedisInvalidationChannel invalidations) =>
        db.ScriptEvaluateAsync(InvalidateScript, [ClockKey, VersionKey(tag)], [invalidations.ChannelArgument, invalidations.Source, tag]);

    /// <summary>After a tagged entry is stored (<see cref="CheckAfterStoreScript"/>): 1 if it is valid.</summary>
    public Task<RedisResult> CheckAfterStoreAsync(IDatabaseAsync db, long stamp, IReadOnlyCollection<string> tags, long lifetimeMs)
    {
        var keys = new RedisKey[tags.Count + 1];
        keys[0] = ClockKey;
        var i = 1;
        foreach (var tag in tags)
        {
            keys[i++] = VersionKey(tag);
        }

        return db.ScriptEvaluateAsync(CheckAfterStoreScript, keys, [stamp, lifetimeMs]);
    }

    /// <summary>
    /// The client's check of a tagged entry read where the script could not check it (a Cluster, a replica): one <c>MGET</c>
    /// of its versions in the tags' slot. A missing version or one above the entry's stamp makes it invalid; an unreadable
    /// section too.
    /// </summary>
    public async Task<bool> AreValidAsync(IDatabaseAsync db, ReadOnlyMemory<byte> stored, CommandFlags flags)
    {
        if (!TryReadSection(stored.Span, out var stamp, out var tags))
        {
            return false;
        }

        var keys = new RedisKey[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            keys[i] = VersionKey(tags[i]);
        }

        return AreValid(await db.StringGetAsync(keys, flags).ConfigureAwait(false), stamp);
    }

    /// <summary>Whether an entry stamped <paramref name="stamp"/> is valid under its tags' versions: each exists and is at most the stamp.</summary>
    public static bool AreValid(ReadOnlySpan<RedisValue> versions, long stamp)
    {
        foreach (var version in versions)
        {
            if (version.IsNull || !version.TryParse(out long value) || value > stamp)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The tag section (<see cref="CacheTagSection"/>) followed by the payload: what the scripts get as the payload.</summary>
    public static byte[] EncodeSection(long stamp, IReadOnlyCollection<string> tags, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[CacheTagSection.LengthOf(tags) + payload.Length];
        var at = CacheTagSection.Write(stamp, tags, bytes);
        payload.CopyTo(bytes.AsSpan(at));
        return bytes;
    }

    /// <summary>Finds where the payload starts after the tag section of an entry whose header says it is tagged.</summary>
    public static bool TrySkipSection(ReadOnlySpan<byte> stored, out int payloadStart)
    {
        var ok = CacheTagSection.TryRead(stored[RedisEnvelope.HeaderLength..], out _, null, out var length);
        payloadStart = RedisEnvelope.HeaderLength + length;
        return ok;
    }

    public static bool TryReadSection(ReadOnlySpan<byte> stored, out long stamp, out string[] tags)
    {
        var list = new List<string>();
        var ok = CacheTagSection.TryRead(stored[RedisEnvelope.HeaderLength..], out stamp, list, out _);
        tags = [.. list];
        return ok;
    }
}
