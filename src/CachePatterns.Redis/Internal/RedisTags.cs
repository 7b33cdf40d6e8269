using System.Collections.Concurrent;
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
/// on a single server by one <c>MGET</c> of the entry and the versions, on a Cluster by an <c>MGET</c> of the versions' copies
/// in the entry's slot bucket sent with the entry's <c>GET</c> (<see cref="CopyKeys"/>: one round trip to the entry's node);
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

    /// <summary>Publishes a tag's invalidation (kind <c>t</c> of <see cref="RedisInvalidationMessage"/>); ARGV: channel, source, tag.</summary>
    private const string PublishTag = """
        if ARGV[1] ~= '' then
          local t = redis.call('TIME')
          redis.pcall('PUBLISH', ARGV[1], '1|t|' .. t[1] .. string.format('%06d', tonumber(t[2])) .. '|' .. ARGV[2] .. '|' .. ARGV[3])
        end

        """;

    /// <summary>
    /// KEYS[1] = clock, KEYS[2] = the tag's version; ARGV: the near caches' channel ('' for none: a Cluster publishes after its
    /// copies, <see cref="PublishTagScript"/>), this client's source id, the tag. Advances the clock, raises the version if it
    /// exists, then publishes the tag's invalidation, so no near cache hears it before the version is raised. Returns the
    /// new version.
    /// </summary>
    public const string InvalidateScript = "#!lua flags=allow-oom\n" + ClockFunctions + """
        local n = math.max(read_clock(KEYS[1]) + 1, now_ms())
        redis.call('SET', KEYS[1], string.format('%d', n))
        if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('SET', KEYS[2], string.format('%d', n), 'KEEPTTL') end

        """ + PublishTag + """
        return string.format('%d', n)
        """;

    /// <summary>No keys; ARGV as <see cref="InvalidateScript"/>: a Cluster's publish, sent once every copy is raised.</summary>
    public const string PublishTagScript = "#!lua flags=allow-oom\n" + PublishTag + "return 1";

    /// <summary>
    /// KEYS[1] = one copy of a tag's version (<see cref="CopyKeys"/>), ARGV[1] = the version an invalidation just set. Raises
    /// the copy if it exists (a pending one becomes that version); a missing copy stays missing (its readers ask the version).
    /// </summary>
    public const string RaiseCopyScript = """
        #!lua flags=allow-oom
        local c = redis.call('GET', KEYS[1])
        if c and (not tonumber(c) or tonumber(c) < tonumber(ARGV[1])) then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
        return 1
        """;

    /// <summary>KEYS[1] = a tag's version. Returns the version (false when missing) and its remaining life in ms.</summary>
    public const string ReadVersionScript = """
        return { redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]) }
        """;

    /// <summary>
    /// KEYS[1] = a copy being made; ARGV: its pending mark, the version read after the mark was set ('' when missing), that
    /// version's remaining life in ms (negative: none). Only if the copy still holds this mark (no invalidation raised it
    /// meanwhile): sets it to the version with at most the version's life, or deletes it when the version is missing.
    /// </summary>
    public const string ConfirmCopyScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('DEL', KEYS[1]) return 0 end
        local ttl = tonumber(ARGV[3])
        if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[2]) end
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

    /// <summary>How many sets of version copies a Cluster keeps: one per range of 256 hash slots.</summary>
    public const int CopyBuckets = 64;

    /// <summary>How long a copy may stay pending (its maker died between the mark and the confirmation).</summary>
    private const long PendingCopyMs = 10_000;

    private const int SlotsPerBucket = 16_384 / CopyBuckets;

    private readonly string _slot = "{" + instanceName + "~tags}";

    /// <summary>Per bucket, the prefix of its copies' keys (<c>{InstanceName~tags~i}:t:</c>, i found so its slot is in the bucket).</summary>
    private string[]? _copyPrefixes;

    /// <summary>The copies being made by this process, so that concurrent hits start one maker per copy.</summary>
    private readonly ConcurrentDictionary<string, byte> _copiesBeingMade = new(StringComparer.Ordinal);

    /// <summary>Gets the prefix of every tag version key: <c>{InstanceName~tags}:t:</c>.</summary>
    public string VersionKeyPrefix { get; } = "{" + instanceName + "~tags}:t:";

    private RedisKey ClockKey => _slot + ":clock";

    private RedisKey VersionKey(string tag) => VersionKeyPrefix + tag;

    /// <summary>Reads the clock: the stamp of a lease (sent with the lease script, in the same batch).</summary>
    public Task<RedisResult> ReadStampAsync(IDatabaseAsync db) => db.ScriptEvaluateAsync(ReadClockScript, [ClockKey]);

    /// <summary>Parses <see cref="ReadStampAsync"/>'s reply.</summary>
    public static long ParseStamp(RedisResult result) => long.Parse((string)result!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Invalidates <paramref name="tag"/> and publishes it to the near caches (<see cref="InvalidateScript"/>). On a Cluster
    /// it then raises every existing copy of the version (<see cref="CopyKeys"/>), and publishes only after that: returned
    /// (or heard by a near cache), every copy a read can trust is raised.
    /// </summary>
    public async Task InvalidateAsync(IDatabase db, string tag, RedisInvalidationChannel invalidations, bool cluster)
    {
        if (!cluster)
        {
            await db.ScriptEvaluateAsync(InvalidateScript, [ClockKey, VersionKey(tag)], [invalidations.ChannelArgument, invalidations.Source, tag]).ConfigureAwait(false);
            return;
        }

        var version = (RedisValue)await db.ScriptEvaluateAsync(InvalidateScript, [ClockKey, VersionKey(tag)], [RedisValue.EmptyString, invalidations.Source, tag]).ConfigureAwait(false);
        var prefixes = CopyPrefixes(db.Multiplexer);
        var raises = new Task[prefixes.Length];
        for (var i = 0; i < prefixes.Length; i++)
        {
            raises[i] = db.ScriptEvaluateAsync(RaiseCopyScript, [prefixes[i] + tag], [version]);
        }

        await Task.WhenAll(raises).ConfigureAwait(false);
        if (invalidations.ChannelArgument.Length > 0)
        {
            await db.ScriptEvaluateAsync(PublishTagScript, null, [invalidations.ChannelArgument, invalidations.Source, tag]).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The keys of the copies of <paramref name="tags"/>' versions a Cluster's tagged hit of <paramref name="valueKey"/> reads:
    /// those of the entry's bucket (256 hash slots), whose slot is almost always on the entry's node, so the entry's
    /// <c>GET</c> and this <c>MGET</c> go down one connection (docs/architecture.md, "The tagged hit on a Cluster").
    /// </summary>
    public RedisKey[] CopyKeys(IConnectionMultiplexer multiplexer, RedisKey valueKey, string[] tags)
    {
        var prefix = CopyPrefixes(multiplexer)[multiplexer.HashSlot(valueKey) / SlotsPerBucket];
        var keys = new RedisKey[tags.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = prefix + tags[i];
        }

        return keys;
    }

    /// <summary>
    /// Makes the copies a hit found missing or pending (<paramref name="copies"/>[i] read as <paramref name="read"/>[i]), in
    /// the background: mark the copy pending (only if missing), then read the version, then confirm the copy with that value
    /// only if it still holds the mark. An invalidation that raised the copy in between made it hold its new version instead.
    /// </summary>
    public void MakeMissingCopies(IDatabase db, RedisKey[] copies, ReadOnlySpan<RedisValue> read, string[] tags)
    {
        for (var i = 0; i < copies.Length; i++)
        {
            if (!read[i].IsNull)
            {
                continue; // Pending: its maker confirms it (or it expires).
            }

            var copy = (string)copies[i]!;
            if (_copiesBeingMade.TryAdd(copy, 0))
            {
                _ = MakeCopyAsync(db, copy, VersionKey(tags[i]));
            }
        }
    }

    private async Task MakeCopyAsync(IDatabase db, string copy, RedisKey version)
    {
        try
        {
            var mark = "p" + Random.Shared.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!await db.StringSetAsync(copy, mark, TimeSpan.FromMilliseconds(PendingCopyMs), When.NotExists).ConfigureAwait(false))
            {
                return;
            }

            var current = (RedisResult[])(await db.ScriptEvaluateAsync(ReadVersionScript, [version]).ConfigureAwait(false))!;
            var value = current[0].IsNull ? RedisValue.EmptyString : (RedisValue)current[0];
            await db.ScriptEvaluateAsync(ConfirmCopyScript, [copy], [mark, value, (long)current[1]]).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            // The copy stays missing or pending (its mark expires): its readers keep asking the version.
        }
        finally
        {
            _copiesBeingMade.TryRemove(copy, out _);
        }
    }

    /// <summary>Per bucket, a hash tag whose slot lies in the bucket (the same for every client: it depends on the name only).</summary>
    private string[] CopyPrefixes(IConnectionMultiplexer multiplexer)
    {
        if (Volatile.Read(ref _copyPrefixes) is { } known)
        {
            return known;
        }

        var prefixes = new string[CopyBuckets];
        var found = 0;
        for (var i = 0; found < CopyBuckets; i++)
        {
            var hashTag = "{" + instanceName + "~tags~" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}";
            var bucket = multiplexer.HashSlot(hashTag) / SlotsPerBucket;
            if (prefixes[bucket] is null)
            {
                prefixes[bucket] = hashTag + ":t:";
                found++;
            }
        }

        Volatile.Write(ref _copyPrefixes, prefixes);
        return prefixes;
    }

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
    public static bool AreValid(ReadOnlySpan<RedisValue> versions, long stamp) => Judge(versions, stamp) == TagCheck.Valid;

    /// <summary>
    /// Judges an entry stamped <paramref name="stamp"/> by versions or copies of them: invalidated when one is above the
    /// stamp, unknown when one is missing or not a number (a pending copy), else valid.
    /// </summary>
    public static TagCheck Judge(ReadOnlySpan<RedisValue> versions, long stamp)
    {
        var check = TagCheck.Valid;
        foreach (var version in versions)
        {
            if (version.IsNull || !version.TryParse(out long value))
            {
                check = TagCheck.Unknown;
            }
            else if (value > stamp)
            {
                return TagCheck.Invalidated;
            }
        }

        return check;
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

/// <summary>What an entry's tag versions (or copies of them) say of it.</summary>
internal enum TagCheck
{
    /// <summary>Every version exists and is at most the entry's stamp.</summary>
    Valid,

    /// <summary>A version is above the entry's stamp: a tag was invalidated after its load began.</summary>
    Invalidated,

    /// <summary>A version is missing or unreadable: on the versions themselves fail closed; a copy: ask the versions.</summary>
    Unknown,
}
