using System.Buffers;
using System.Text;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// One strategy's entries in Redis. Every contract operation is one Lua script run atomically on the server
/// (see <see cref="RedisScripts"/>), one round trip each, except the plain hit of a non-sliding entry: a <c>GET</c> judged
/// against the server clock estimated by <see cref="RedisServerClock"/>. A sliding hit, with its renewal, is one script call.
/// Connection errors are thrown: the core's resilient store turns them into misses.
/// </summary>
/// <remarks>
/// Keys: value <c>{instance + prefix + key}</c>, lease <c>{…}:l</c>, writes <c>{…}:w</c>. The braces make the whole
/// formatted key the hash tag, so the three share a Cluster slot. Expiry is decided with the Redis server's clock (read by
/// the scripts, or estimated from <c>TIME</c> for a plain <c>GET</c>).
/// </remarks>
internal sealed class RedisCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>
    where TKey : notnull
{
    private static readonly RedisValue Zero = 0;

    /// <summary>The SHA-1 Redis names <see cref="RedisScripts.GetPlain"/> by: the hit sends EVALSHA without looking the script text up.</summary>
#pragma warning disable CA5350 // Redis identifies scripts by SHA-1; this is a name, not a security measure.
    private static readonly byte[] GetPlainHash = System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(RedisScripts.GetPlain));
#pragma warning restore CA5350
    private static readonly RedisValue One = 1;

    /// <summary>100 years in milliseconds.</summary>
    private const long MaxSpanMs = 100L * 365 * 24 * 60 * 60 * 1000;

    private readonly CacheStoreDescriptor<TKey, TValue> _descriptor;
    private readonly RedisConnection _connection;
    private readonly RedisCacheProviderOptions _options;
    private readonly string _prefix;
    private readonly RedisValue _leaseMs;
    private readonly RedisValue _writeMs;
    private readonly PendingInvalidations _pending;
    private readonly RedisServerClock _clock;
    private bool _slidingSeen;

    public RedisCacheStore(CacheStoreDescriptor<TKey, TValue> descriptor, RedisConnection connection, RedisCacheProviderOptions options, PendingInvalidations pending, RedisServerClock clock)
    {
        _clock = clock;
        _pending = pending;
        _descriptor = descriptor;
        _connection = connection;
        _options = options;
        _prefix = options.InstanceName + descriptor.KeyPrefix;
        _leaseMs = (long)Math.Ceiling(options.LeaseTimeout.TotalMilliseconds);
        _writeMs = (long)Math.Ceiling(options.WriteTimeout.TotalMilliseconds);
    }

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken) =>
        acquireLease || !_pending.IsEmpty ? GetWithLeaseOrPendingAsync(key, acquireLease, cancellationToken) : GetPlainAsync(key, cancellationToken);

    /// <summary>
    /// The hit path: a plain <c>GET</c> of the value key, judged against the server's clock estimated here
    /// (<see cref="RedisServerClock"/>). The script (<see cref="GetByScriptAsync"/>) answers instead when the judgement
    /// needs the server: no clock sample yet, an entry with a sliding window (renewed atomically by the script), a
    /// corrupt header (deleted by the script), or a deadline within the clock's error bound of now.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<CacheLookup<TValue>> GetPlainAsync(TKey key, CancellationToken cancellationToken)
    {
        var valueKey = ValueKey(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _slidingSeen) || !_clock.TryNow(db, out _, out _))
        {
            return await GetByScriptAsync(db, valueKey, cancellationToken).ConfigureAwait(false);
        }

        var flags = _options.ReadFromReplicas ? CommandFlags.PreferReplica : CommandFlags.None;
        using (var lease = await PooledTaskWait<Lease<byte>?>.WaitAsync(db.StringGetLeaseAsync(valueKey, flags), cancellationToken).ConfigureAwait(false))
        {
            if (lease is null)
            {
                return CacheLookup<TValue>.Miss;
            }

            var stored = lease.Memory;
            if (stored.Length >= RedisEnvelope.HeaderLength && stored.Span[0] == RedisEnvelope.FormatVersion)
            {
                if (RedisEnvelope.SlidingMs(stored.Span) > 0)
                {
                    // Sliding entries of this store go to the script from now on: it renews them in the same round trip.
                    Volatile.Write(ref _slidingSeen, true);
                }
                else if (_clock.TryNow(db, out var now, out var margin))
                {
                    var expires = RedisEnvelope.ExpiresAt(stored.Span);
                    if (expires == 0 || now + margin < expires)
                    {
                        if (TryDecode(valueKey, stored, out var value))
                        {
                            return CacheLookup<TValue>.Hit(value);
                        }
                    }
                    else if (now - margin >= expires)
                    {
                        if (TryDecode(valueKey, stored, out var value))
                        {
                            return CacheLookup<TValue>.Stale(value, CacheLease.None, TimeSpan.FromMilliseconds(now - expires));
                        }
                    }
                    else
                    {
                        stored = default;
                    }

                    if (!stored.IsEmpty)
                    {
                        // The payload cannot be read: delete exactly what we read (a newer entry written meanwhile stays).
                        await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, [valueKey], [stored.ToArray()])
                            .WaitAsync(cancellationToken).ConfigureAwait(false);
                        return CacheLookup<TValue>.Miss;
                    }
                }
            }
        }

        return await GetByScriptAsync(db, valueKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The plain read by script: one value key, the lean script (or the read-only one on a replica).</summary>
    private async ValueTask<CacheLookup<TValue>> GetByScriptAsync(IDatabase db, RedisKey valueKey, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [valueKey];
        if (_options.ReadFromReplicas)
        {
            var fromReplica = await db.ScriptEvaluateReadOnlyAsync(RedisScripts.GetReadOnly, keys, null, CommandFlags.PreferReplica)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            return await FromReplicaAsync(db, keys, fromReplica, cancellationToken).ConfigureAwait(false);
        }

        RedisResult result;
        try
        {
            result = await PooledTaskWait<RedisResult>.WaitAsync(db.ScriptEvaluateAsync(GetPlainHash, keys), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // The server lost its scripts (restart, SCRIPT FLUSH): the text version loads it again.
            result = await db.ScriptEvaluateAsync(RedisScripts.GetPlain, keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (result.IsNull)
        {
            return CacheLookup<TValue>.Miss;
        }

        if (result.Resp2Type == ResultType.BulkString)
        {
            // A hit: the reply is the stored bytes alone.
            var stored = (byte[])result!;
            if (TryDecode(keys[0], stored, out var value))
            {
                return CacheLookup<TValue>.Hit(value);
            }

            await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [stored]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return CacheLookup<TValue>.Miss;
        }

        return await ToLookupAsync(db, keys, 0, result, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<CacheLookup<TValue>> GetWithLeaseOrPendingAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        if (!_pending.IsEmpty && _pending.Blocks(keys[0]) && !await _pending.TryReplayAsync(keys[0], cancellationToken).ConfigureAwait(false))
        {
            // Its invalidation has not reached Redis yet: the entry there may be older than the database.
            return CacheLookup<TValue>.Unavailable;
        }

        if (!acquireLease)
        {
            return await GetPlainAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var token = acquireLease ? NewToken() : 0;
        RedisResult result;
        try
        {
            result = await db.ScriptEvaluateAsync(RedisScripts.Get, keys, [acquireLease ? One : Zero, token, _leaseMs])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (acquireLease)
        {
            AbandonLease(db, keys, token);
            throw;
        }

        var lookup = await ToLookupAsync(db, keys, token, result, cancellationToken).ConfigureAwait(false);
        if (acquireLease && lookup.Status == CacheLookupStatus.Miss && !lookup.Lease.IsGranted)
        {
            // Only a fresh entry whose payload could not be read (now deleted) is a miss without a lease: ask again, once.
            token = NewToken();
            result = await db.ScriptEvaluateAsync(RedisScripts.Get, keys, [One, token, _leaseMs]).WaitAsync(cancellationToken).ConfigureAwait(false);
            lookup = await ToLookupAsync(db, keys, token, result, cancellationToken).ConfigureAwait(false);
        }

        return lookup;
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);

        // Refuse a bad key before any lease is granted: leases of the keys before it would never be given back.
        var allKeys = new RedisKey[keys.Count][];
        for (var i = 0; i < allKeys.Length; i++)
        {
            allKeys[i] = Keys(keys[i]);
        }

        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);

        // One script per key (keys of a batch may live in different Cluster slots), sent together: one round trip per node.
        var batch = db.CreateBatch();
        var tokens = new long[allKeys.Length];
        var pending = new Task<RedisResult>[allKeys.Length];
        var fromReplicas = !acquireLeases && _options.ReadFromReplicas;
        for (var i = 0; i < allKeys.Length; i++)
        {
            tokens[i] = acquireLeases ? NewToken() : 0;
            pending[i] = fromReplicas
                ? batch.ScriptEvaluateReadOnlyAsync(RedisScripts.GetReadOnly, allKeys[i], null, CommandFlags.PreferReplica)
                : batch.ScriptEvaluateAsync(RedisScripts.Get, allKeys[i], [acquireLeases ? One : Zero, tokens[i], _leaseMs]);
        }

        batch.Execute();
        try
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (acquireLeases)
        {
            for (var i = 0; i < allKeys.Length; i++)
            {
                AbandonLease(db, allKeys[i], tokens[i]);
            }

            throw;
        }

        var results = new CacheLookup<TValue>[allKeys.Length];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = fromReplicas
                ? await FromReplicaAsync(db, allKeys[i], pending[i].Result, cancellationToken).ConfigureAwait(false)
                : await ToLookupAsync(db, allKeys[i], tokens[i], pending[i].Result, cancellationToken).ConfigureAwait(false);
            if (!_pending.IsEmpty && _pending.Blocks(allKeys[i][0]) && !await _pending.TryReplayAsync(allKeys[i][0], cancellationToken).ConfigureAwait(false))
            {
                if (results[i].Lease.IsGranted)
                {
                    AbandonLease(db, allKeys[i], tokens[i]);
                }

                results[i] = CacheLookup<TValue>.Unavailable;
            }
        }

        return results;
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (lease.Token == 0)
        {
            return false;
        }

        var keys = Keys(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        if (!_pending.IsEmpty && _pending.Blocks(keys[0]))
        {
            // A lease taken before an invalidation that has not reached Redis yet would store the older value.
            AbandonLease(db, keys, lease.Token);
            return false;
        }

        byte[] payload;
        try
        {
            payload = Serialize(keys[0], value);
        }
        catch
        {
            await db.ScriptEvaluateAsync(RedisScripts.Release, keys, [lease.Token]).WaitAsync(cancellationToken).ConfigureAwait(false);
            throw;
        }

        var (abs, sliding, retention) = Expiration(options);
        NoteSliding(options);
        var result = await db.ScriptEvaluateAsync(RedisScripts.Fill, keys, [lease.Token, payload, Flags(value), abs, sliding, retention])
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (lease.Token == 0)
        {
            return;
        }

        var keys = Keys(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.ScriptEvaluateAsync(RedisScripts.Release, keys, [lease.Token]).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        var payload = Serialize(keys[0], value);
        var (abs, sliding, retention) = Expiration(options);
        NoteSliding(options);
        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await db.ScriptEvaluateAsync(RedisScripts.Set, keys, [payload, Flags(value), abs, sliding, retention])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _pending.Remember(keys[0]);
            throw;
        }
    }

    public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.ScriptEvaluateAsync(RedisScripts.Refresh, keys).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        long removed;
        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            removed = (long)await db.ScriptEvaluateAsync(RedisScripts.Invalidate, keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            // Whether it reached the server is unknown (a timeout may still be delivered later): replay it when Redis answers.
            _pending.Remember(keys[0]);
            throw;
        }

        if (removed > 0)
        {
            _descriptor.Observer?.OnEvicted(CacheEvictionReason.Removed, 1);
        }
    }

    public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var token = NewToken();
        try
        {
            await db.ScriptEvaluateAsync(RedisScripts.BeginWrite, keys, [token, _writeMs]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller treats the write as unregistered (its completion only invalidates); a registration that did
            // reach the server would refuse fills of the key until WriteTimeout. End it without waiting.
            _ = db.ScriptEvaluateAsync(RedisScripts.EndWrite, keys, [token, Zero], CommandFlags.FireAndForget);
            throw;
        }

        return new CacheWriteToken(token, null);
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        if (token.Token == 0)
        {
            await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
            return false;
        }

        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            byte[] payload;
            try
            {
                payload = Serialize(keys[0], value);
            }
            catch
            {
                // The database has the value but the cache cannot hold it: end the write by removing the key.
                await EndWriteAsync(db, keys, token.Token, cancellationToken).ConfigureAwait(false);
                throw;
            }

            var (abs, sliding, retention) = Expiration(options);
            NoteSliding(options);
            var result = await db.ScriptEvaluateAsync(RedisScripts.EndWrite, keys, [token.Token, One, payload, Flags(value), abs, sliding, retention])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            return (long)result == 1;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _pending.Remember(keys[0]);
            throw;
        }
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        if (token.Token == 0)
        {
            await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await EndWriteAsync(db, keys, token.Token, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _pending.Remember(keys[0]);
            throw;
        }
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

    /// <summary>
    /// The caller gave up while a lease request was on its way: the server may have granted it, and nobody would fill or
    /// release it before <see cref="RedisCacheProviderOptions.LeaseTimeout"/>. Give it back without waiting (a no-op if not ours).
    /// </summary>
    private static void AbandonLease(IDatabase db, RedisKey[] keys, long token) =>
        _ = db.ScriptEvaluateAsync(RedisScripts.Release, keys, [token], CommandFlags.FireAndForget);

    private static Task<RedisResult> EndWriteAsync(IDatabase db, RedisKey[] keys, long token, CancellationToken cancellationToken) =>
        db.ScriptEvaluateAsync(RedisScripts.EndWrite, keys, [token, Zero]).WaitAsync(cancellationToken);

    /// <summary>A store that writes sliding entries reads by script from the start (it renews them in the same round trip).</summary>
    private void NoteSliding(StoreEntryOptions options)
    {
        if (options.SlidingExpiration is not null && !Volatile.Read(ref _slidingSeen))
        {
            Volatile.Write(ref _slidingSeen, true);
        }
    }

    private static long NewToken() => Random.Shared.NextInt64(1, long.MaxValue);

    private static RedisValue Flags(CacheValue<TValue> value) => value.Exists ? 0 : RedisEnvelope.NegativeFlag;

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

    /// <summary>
    /// Reads the answer of <see cref="RedisScripts.GetReadOnly"/> (possibly from a replica): a corrupt entry is deleted on
    /// the primary (only if unchanged), and a sliding entry running out is renewed there, both without waiting.
    /// </summary>
    private ValueTask<CacheLookup<TValue>> FromReplicaAsync(IDatabase db, RedisKey[] keys, RedisResult result, CancellationToken cancellationToken)
    {
        var parts = (RedisResult[])result!;
        if ((int)parts[0] == 9)
        {
            Corrupt(keys[0], new InvalidDataException("The Redis entry is not a CachePatterns envelope (format version 1); it was deleted."));
            _ = db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [(byte[]?)parts[1]], CommandFlags.FireAndForget | CommandFlags.DemandMaster);
            return new ValueTask<CacheLookup<TValue>>(CacheLookup<TValue>.Miss);
        }

        if ((long)parts[5] == 1)
        {
            _ = db.ScriptEvaluateAsync(RedisScripts.Refresh, keys, flags: CommandFlags.FireAndForget | CommandFlags.DemandMaster);
        }

        return ToLookupAsync(db, keys, 0, result, cancellationToken);
    }

    private async ValueTask<CacheLookup<TValue>> ToLookupAsync(IDatabase db, RedisKey[] keys, long token, RedisResult result, CancellationToken cancellationToken)
    {
        // Short answers (the lean plain-read script) leave the trailing fields out.
        var parts = (RedisResult[])result!;
        var status = (int)parts[0];
        var stored = parts.Length > 1 ? (byte[]?)parts[1] : null;
        var lease = parts.Length > 2 && (long)parts[2] == 1 ? new CacheLease(token, null) : CacheLease.None;
        if (parts.Length > 3 && (long)parts[3] == 1)
        {
            Corrupt(keys[0], new InvalidDataException("The Redis entry is not a CachePatterns envelope (format version 1); it was deleted."));
        }

        if (status == 0 || stored is null)
        {
            return new CacheLookup<TValue>(status == 3 ? CacheLookupStatus.MissLeaseHeldElsewhere : CacheLookupStatus.Miss, default, lease);
        }

        if (!TryDecode(keys[0], stored, out var value))
        {
            // Delete exactly what we read (a newer entry written meanwhile stays); a granted lease stays valid.
            await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [stored]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new CacheLookup<TValue>(status == 3 ? CacheLookupStatus.MissLeaseHeldElsewhere : CacheLookupStatus.Miss, default, lease);
        }

        if (status == 1)
        {
            return CacheLookup<TValue>.Hit(value);
        }

        // How long ago the value expired, by the server's clock (the same clock that decided it is stale).
        var expiredFor = TimeSpan.FromMilliseconds(Math.Max(0, (long)parts[4]));
        return status == 2
            ? CacheLookup<TValue>.Stale(value, lease, expiredFor)

            // No fresh entry and another client loads it; the stale value travels along.
            : new CacheLookup<TValue>(CacheLookupStatus.StaleLeaseHeldElsewhere, value, CacheLease.None, expiredFor);
    }

    private bool TryDecode(RedisKey key, ReadOnlyMemory<byte> stored, out CacheValue<TValue> value)
    {
        value = default;
        if (!RedisEnvelope.TryRead(stored, out var negative, out var payload, out var error))
        {
            Corrupt(key, new InvalidDataException($"The Redis entry is not a valid CachePatterns envelope: {error}."));
            return false;
        }

        if (negative)
        {
            value = CacheValue<TValue>.NotFound;
            return true;
        }

        try
        {
            value = CacheValue<TValue>.Of(_descriptor.Serializer.Deserialize(payload));
            return true;
        }
        catch (Exception ex)
        {
            Corrupt(key, ex);
            return false;
        }
    }

    private void Corrupt(RedisKey key, Exception exception)
    {
        _descriptor.Observer?.OnEvicted(CacheEvictionReason.Corrupt, 1);
        _descriptor.Observer?.OnCorruptEntry((string)key!, exception);
    }
}
