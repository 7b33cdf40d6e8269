using System.Buffers;
using System.Text;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// One strategy's entries in Redis. Every contract operation is one Lua script run atomically on the server
/// (see <see cref="RedisScripts"/>), one round trip each, except the plain hit of a non-sliding entry: a <c>GET</c> judged
/// against the server clock estimated by <see cref="RedisServerClock"/>. A sliding hit, with its renewal, is one script call.
/// Reads are in <c>RedisCacheStore.Reads.cs</c>, fills and writes in <c>RedisCacheStore.Writes.cs</c>.
/// </summary>
/// <remarks>
/// <para>Keys: value <c>{instance + prefix + key}</c>, lease <c>{…}:l</c>, writes <c>{…}:w</c>. The braces make the whole
/// formatted key the hash tag, so the three share a Cluster slot. Expiry is decided with the Redis server's clock (read by
/// the scripts, or estimated from <c>TIME</c> for a plain <c>GET</c>).</para>
/// <para>Failures are translated (<see cref="RedisFailures"/>) into <see cref="CacheProviderException"/> and thrown; the
/// store remembers nothing. The core's resilience layer decides what they mean.</para>
/// </remarks>
internal sealed partial class RedisCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>
    where TKey : notnull
{
    private static readonly RedisValue Zero = 0;
    private static readonly RedisValue One = 1;

    /// <summary>100 years in milliseconds.</summary>
    private const long MaxSpanMs = 100L * 365 * 24 * 60 * 60 * 1000;

    private readonly CacheStoreDescriptor<TKey, TValue> _descriptor;
    private readonly RedisConnection _connection;
    private readonly RedisCacheProviderOptions _options;
    private readonly string _prefix;
    private readonly RedisValue _leaseMs;
    private readonly RedisValue _writeMs;
    private readonly RedisServerClock _clock;
    private readonly RedisClusterNodes _nodes;
    private readonly RedisTags _tags;
    private readonly RedisTagGuesses _tagGuesses;
    private readonly RedisValue _publishChannel;
    private readonly RedisValue _publishSource;
    private bool _slidingSeen;
    private bool _tagsSeen;

    public RedisCacheStore(
        CacheStoreDescriptor<TKey, TValue> descriptor,
        RedisConnection connection,
        RedisCacheProviderOptions options,
        RedisServerClock clock,
        RedisClusterNodes nodes,
        RedisTags tags,
        RedisInvalidationChannel invalidations)
    {
        _tags = tags;
        _tagGuesses = new RedisTagGuesses(tags);
        _publishChannel = invalidations.ChannelArgument;
        _publishSource = invalidations.Source;
        _clock = clock;
        _nodes = nodes;
        _descriptor = descriptor;
        _connection = connection;
        _options = options;
        _prefix = options.InstanceName + descriptor.KeyPrefix;
        _leaseMs = (long)Math.Ceiling(options.LeaseTimeout.TotalMilliseconds);
        _writeMs = (long)Math.Ceiling(options.WriteTimeout.TotalMilliseconds);
    }

    /// <summary>Formats and checks a key: value, lease and writes keys, all hash-tagged alike.</summary>
    internal RedisKey[] Keys(TKey key)
    {
        var value = ValueKeyString(key);
        return [value, value + ":l", value + ":w"];
    }

    private RedisKey ValueKey(TKey key) => ValueKeyString(key);

    public void ValidateKey(TKey key) => _ = ValueKeyString(key);

    /// <summary><c>{instance + prefix + key}</c> in one allocation, checked against <see cref="RedisCacheProviderOptions.MaxKeyBytes"/>.</summary>
    private string ValueKeyString(TKey key)
    {
        var formatted = _descriptor.KeyFormatter(key);
        var value = string.Concat("{", _prefix, formatted, "}");

        // Two bytes for the braces; UTF-8 is never shorter than the UTF-16 length of ASCII, so count only when it may be over.
        if (value.Length * 3 > _options.MaxKeyBytes + 2)
        {
            var bytes = Encoding.UTF8.GetByteCount(value) - 2;
            if (bytes > _options.MaxKeyBytes)
            {
                var shown = value[1..^1];
                throw new ArgumentException(
                    $"The cache key '{shown[..Math.Min(shown.Length, 64)]}…' is {bytes} bytes in UTF-8 (with its prefixes), over the Redis provider's MaxKeyBytes of {_options.MaxKeyBytes}.",
                    nameof(key));
            }
        }

        return value;
    }

    /// <summary>The exception to throw for a Redis failure (see <see cref="RedisFailures"/>).</summary>
    private CacheProviderException Failure(Exception exception) => RedisFailures.Translate(exception, _connection);

    /// <summary>
    /// Whether a failure of a call on <c>key</c> is to be thrown by <see cref="Failure(Exception, RedisKey, CancellationToken)"/>:
    /// any Redis failure, and on a Cluster also the call's timeout (attributed to the key's node, <see cref="RedisClusterNodes"/>).
    /// </summary>
    private bool IsFailure(Exception exception, CancellationToken cancellationToken) =>
        RedisFailures.IsRedisFailure(exception) || _nodes.IsNodeFailure(exception, cancellationToken);

    /// <summary>The exception to throw for a failure of a call on <paramref name="key"/>: on a Cluster it names the key's node.</summary>
    private Exception Failure(Exception exception, RedisKey key, CancellationToken cancellationToken) =>
        _nodes.IsNodeFailure(exception, cancellationToken) ? _nodes.Attribute(exception, key, cancellationToken) : Failure(exception);

    /// <summary>Fails a call at once when the key's Cluster node is down; one volatile read while every node answers.</summary>
    private void ThrowIfNodeDown(RedisKey key)
    {
        if (_nodes.AnyDown)
        {
            _nodes.ThrowIfDown(key);
        }
    }

    /// <summary>
    /// The caller gave up while a lease request was on its way: the server may have granted it, and nobody would fill or
    /// release it before <see cref="RedisCacheProviderOptions.LeaseTimeout"/>. Give it back without waiting (a no-op if not ours).
    /// </summary>
    private static void AbandonLease(IDatabase db, RedisKey[] keys, long token) =>
        _ = db.ScriptEvaluateAsync(RedisScripts.Release, keys, [token], CommandFlags.FireAndForget);

    /// <summary>A store that writes sliding entries reads by script from the start (it renews them in the same round trip).</summary>
    private void NoteSliding(StoreEntryOptions options)
    {
        if (options.SlidingExpiration is not null && !Volatile.Read(ref _slidingSeen))
        {
            Volatile.Write(ref _slidingSeen, true);
        }
    }

    /// <summary>
    /// Whether the read scripts check tags themselves (a single server: one round trip). On a Cluster the tag versions live
    /// in another slot, so the client checks a tagged entry after reading it (<see cref="RedisTags.AreValidAsync"/>).
    /// </summary>
    private bool ScriptsCheckTags => !_nodes.IsCluster;

    /// <summary>The scripts' tag argument: the version key prefix, or empty when the client checks.</summary>
    private RedisValue TagPrefixArgument => ScriptsCheckTags ? _tags.VersionKeyPrefix : RedisValue.EmptyString;

    /// <summary>
    /// A store that writes or reads tagged entries reads by script from then on on a single server (the script checks the
    /// tags in the same round trip as the read), as it does for sliding entries.
    /// </summary>
    private void NoteTagged()
    {
        if (!Volatile.Read(ref _tagsSeen))
        {
            Volatile.Write(ref _tagsSeen, true);
        }
    }

    /// <summary>A changing script's own arguments, then the two its publish step reads (<see cref="RedisPublishingScripts"/>).</summary>
    private RedisValue[] Publishing(params RedisValue[] values) => [.. values, _publishChannel, _publishSource];

    private static long NewToken() => Random.Shared.NextInt64(1, long.MaxValue);

    private static RedisValue Flags(CacheValue<TValue> value) => value.Exists ? 0 : RedisEnvelope.NegativeFlag;

    private static RedisValue TaggedFlags(CacheValue<TValue> value) => RedisEnvelope.TaggedFlag | (value.Exists ? 0 : RedisEnvelope.NegativeFlag);

    /// <summary>
    /// How long the versions of an entry's tags are kept at least: its absolute lifetime (expiration plus stale retention)
    /// and a second; 0 (no expiry) for an entry without an absolute expiration, which a read may keep alive indefinitely. A
    /// version that expires anyway (evicted) only turns its entries into misses.
    /// </summary>
    private static long TagLifetimeMs(StoreEntryOptions options) =>
        options.AbsoluteExpiration is { } a ? (long)Math.Min(Math.Ceiling((a + options.StaleRetention).TotalMilliseconds), MaxSpanMs) + 1000 : 0;

    /// <summary>
    /// Milliseconds for the scripts: absolute (-1 for none), sliding (0 for none), fail-safe retention. Each is capped at
    /// 100 years: Lua turns numbers into command arguments with 14 significant digits, and server time plus two such
    /// spans stays within 13.
    /// </summary>
    private static (RedisValue Absolute, RedisValue Sliding, RedisValue Retention) Expiration(StoreEntryOptions options)
    {
        static long Ms(TimeSpan t) => t <= TimeSpan.Zero ? 0 : (long)Math.Min(Math.Ceiling(t.TotalMilliseconds), MaxSpanMs);
        var absolute = options.AbsoluteExpiration is { } a ? Ms(a) : -1;
        var sliding = options.SlidingExpiration is { } s ? Math.Max(1, Ms(s)) : 0;
        return (absolute, sliding, Ms(options.StaleRetention));
    }

    private byte[] Serialize(RedisKey key, CacheValue<TValue> value)
    {
        if (!value.Exists)
        {
            return [];
        }

        var buffer = new ArrayBufferWriter<byte>();
        _descriptor.Serializer.Serialize(value.Value!, buffer);
        if (buffer.WrittenCount > _options.MaxValueBytes)
        {
            throw new CacheValueTooLargeException((string)key!, buffer.WrittenCount, _options.MaxValueBytes);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void Corrupt(RedisKey key, Exception exception)
    {
        _descriptor.Observer?.OnEvicted(CacheEvictionReason.Corrupt, 1);
        _descriptor.Observer?.OnCorruptEntry((string)key!, exception);
    }
}
