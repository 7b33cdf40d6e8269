using System.Runtime.CompilerServices;
using System.Text;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>The reads of <see cref="RedisCacheStore{TKey, TValue}"/>: the plain hit, the lease read, batches, replicas.</summary>
internal sealed partial class RedisCacheStore<TKey, TValue>
{
    /// <summary>The SHA-1 Redis names <see cref="RedisScripts.GetPlain"/> by: the hit sends EVALSHA without looking the script text up.</summary>
#pragma warning disable CA5350 // Redis identifies scripts by SHA-1; this is a name, not a security measure.
    private static readonly byte[] GetPlainHash = System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(RedisScripts.GetPlain));
#pragma warning restore CA5350

    private static readonly InvalidDataException NotAnEnvelope = new("The Redis entry is not a CachePatterns envelope (format version 1); it was deleted.");

    public ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken) =>
        acquireLease ? GetWithLeaseAsync(key, cancellationToken) : GetPlainAsync(key, cancellationToken);

    /// <summary>
    /// The hit path: a plain <c>GET</c> of the value key, judged against the server's clock estimated here
    /// (<see cref="RedisServerClock"/>). The script (<see cref="GetByScriptAsync"/>) answers instead when the judgement
    /// needs the server: no clock sample yet, an entry with a sliding window (renewed atomically by the script), a
    /// corrupt header (deleted by the script), or a deadline within the clock's error bound of now.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<CacheLookup<TValue>> GetPlainAsync(TKey key, CancellationToken cancellationToken)
    {
        var valueKey = ValueKey(key);
        try
        {
            ThrowIfNodeDown(valueKey);
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

                if (TryJudgeByClientClock(db, valueKey, lease.Memory, out var lookup, out var corrupt))
                {
                    return lookup;
                }

                if (corrupt)
                {
                    // The payload cannot be read: delete exactly what we read (a newer entry written meanwhile stays).
                    await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, [valueKey], [lease.Memory.ToArray()])
                        .WaitAsync(cancellationToken).ConfigureAwait(false);
                    return CacheLookup<TValue>.Miss;
                }
            }

            return await GetByScriptAsync(db, valueKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, valueKey, cancellationToken);
        }
    }

    /// <summary>
    /// Judges a plain <c>GET</c>'s bytes against the estimated server clock: a hit or a stale value when the deadline is
    /// clearly past or ahead; false (the script decides) for a sliding entry, no clock, or a deadline within the error bound.
    /// </summary>
    private bool TryJudgeByClientClock(IDatabase db, RedisKey valueKey, ReadOnlyMemory<byte> stored, out CacheLookup<TValue> lookup, out bool corrupt)
    {
        lookup = default;
        corrupt = false;
        if (stored.Length < RedisEnvelope.HeaderLength || stored.Span[0] != RedisEnvelope.FormatVersion)
        {
            return false;
        }

        if (RedisEnvelope.SlidingMs(stored.Span) > 0)
        {
            // Sliding entries of this store go to the script from now on: it renews them in the same round trip.
            Volatile.Write(ref _slidingSeen, true);
            return false;
        }

        if (!_clock.TryNow(db, out var now, out var margin))
        {
            return false;
        }

        var expires = RedisEnvelope.ExpiresAt(stored.Span);
        if (expires == 0 || now + margin < expires)
        {
            if (TryDecode(valueKey, stored, out var value))
            {
                lookup = CacheLookup<TValue>.Hit(value);
                return true;
            }
        }
        else if (now - margin >= expires)
        {
            if (TryDecode(valueKey, stored, out var value))
            {
                lookup = CacheLookup<TValue>.Stale(value, CacheLease.None, TimeSpan.FromMilliseconds(now - expires));
                return true;
            }
        }
        else
        {
            // Within the clock's error bound of the deadline: the script decides with the server's clock.
            return false;
        }

        corrupt = true;
        return false;
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

        return await ToLookupAsync(db, keys, 0, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<CacheLookup<TValue>> GetWithLeaseAsync(TKey key, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        try
        {
            ThrowIfNodeDown(keys[0]);
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var token = NewToken();
            RedisResult result;
            try
            {
                result = await db.ScriptEvaluateAsync(RedisScripts.Get, keys, [One, token, _leaseMs]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                AbandonLease(db, keys, token);
                throw;
            }

            var lookup = await ToLookupAsync(db, keys, token, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
            if (lookup.Status == CacheLookupStatus.Miss && !lookup.Lease.IsGranted)
            {
                // Only a fresh entry whose payload could not be read (now deleted) is a miss without a lease: ask again, once.
                token = NewToken();
                result = await db.ScriptEvaluateAsync(RedisScripts.Get, keys, [One, token, _leaseMs]).WaitAsync(cancellationToken).ConfigureAwait(false);
                lookup = await ToLookupAsync(db, keys, token, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
            }

            return lookup;
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, keys[0], cancellationToken);
        }
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

        try
        {
            foreach (var keysOfOne in allKeys)
            {
                ThrowIfNodeDown(keysOfOne[0]);
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
                    : await ToLookupAsync(db, allKeys[i], tokens[i], RedisReadReply.Parse(pending[i].Result), cancellationToken).ConfigureAwait(false);
            }

            return results;
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            throw Failure(ex);
        }
    }

    /// <summary>
    /// Reads the answer of <see cref="RedisScripts.GetReadOnly"/> (possibly from a replica): a corrupt entry is deleted on
    /// the primary (only if unchanged), and a sliding entry running out is renewed there, both without waiting.
    /// </summary>
    private ValueTask<CacheLookup<TValue>> FromReplicaAsync(IDatabase db, RedisKey[] keys, RedisResult result, CancellationToken cancellationToken)
    {
        var reply = RedisReadReply.Parse(result);
        if (reply.Status == ReadStatus.Corrupt)
        {
            Corrupt(keys[0], NotAnEnvelope);
            _ = db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [reply.Stored], CommandFlags.FireAndForget | CommandFlags.DemandMaster);
            return new ValueTask<CacheLookup<TValue>>(CacheLookup<TValue>.Miss);
        }

        if (reply.Renew)
        {
            _ = db.ScriptEvaluateAsync(RedisScripts.Refresh, keys, flags: CommandFlags.FireAndForget | CommandFlags.DemandMaster);
        }

        return ToLookupAsync(db, keys, 0, reply, cancellationToken);
    }

    private async ValueTask<CacheLookup<TValue>> ToLookupAsync(IDatabase db, RedisKey[] keys, long token, RedisReadReply reply, CancellationToken cancellationToken)
    {
        var lease = reply.LeaseGranted ? new CacheLease(token, null) : CacheLease.None;
        if (reply.CorruptDeleted)
        {
            Corrupt(keys[0], NotAnEnvelope);
        }

        var held = reply.Status == ReadStatus.LeaseHeldElsewhere;
        if (reply.Status == ReadStatus.Miss || reply.Stored is null)
        {
            return new CacheLookup<TValue>(held ? CacheLookupStatus.MissLeaseHeldElsewhere : CacheLookupStatus.Miss, default, lease);
        }

        if (!TryDecode(keys[0], reply.Stored, out var value))
        {
            // Delete exactly what we read (a newer entry written meanwhile stays); a granted lease stays valid.
            await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [reply.Stored]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new CacheLookup<TValue>(held ? CacheLookupStatus.MissLeaseHeldElsewhere : CacheLookupStatus.Miss, default, lease);
        }

        if (reply.Status == ReadStatus.Hit)
        {
            return CacheLookup<TValue>.Hit(value);
        }

        // How long ago the value expired, by the server's clock (the same clock that decided it is stale).
        var expiredFor = TimeSpan.FromMilliseconds(Math.Max(0, reply.ExpiredForMs));
        return held

            // No fresh entry and another client loads it; the stale value travels along.
            ? new CacheLookup<TValue>(CacheLookupStatus.StaleLeaseHeldElsewhere, value, CacheLease.None, expiredFor)
            : CacheLookup<TValue>.Stale(value, lease, expiredFor);
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
}
