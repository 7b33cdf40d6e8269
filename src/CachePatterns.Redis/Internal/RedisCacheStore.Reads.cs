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

            if (Volatile.Read(ref _tagsSeen))
            {
                if (!_options.ReadFromReplicas && _tagGuesses.TryGet((string)valueKey!, out var guess))
                {
                    return await GetTaggedAsync(db, valueKey, guess, cancellationToken).ConfigureAwait(false);
                }

                if (ScriptsCheckTags)
                {
                    return await GetByScriptAsync(db, valueKey, cancellationToken).ConfigureAwait(false);
                }
            }

            var flags = _options.ReadFromReplicas ? CommandFlags.PreferReplica : CommandFlags.None;
            using (var lease = await PooledTaskWait<Lease<byte>?>.WaitAsync(db.StringGetLeaseAsync(valueKey, flags), cancellationToken).ConfigureAwait(false))
            {
                if (lease is null)
                {
                    return CacheLookup<TValue>.Miss;
                }

                if (TryJudgeByClientClock(db, valueKey, lease.Memory, tagsCheckedByCaller: false, out var lookup, out var corrupt))
                {
                    // Only on a Cluster does a tagged entry get here (on a single server the script checks its tags).
                    return RedisEnvelope.IsTagged(lease.Memory.Span)
                        ? await CheckTagsAsync(db, [valueKey], lease.Memory.ToArray(), lookup, flags, cancellationToken).ConfigureAwait(false)
                        : lookup;
                }

                if (corrupt)
                {
                    // The payload cannot be read: delete exactly what we read.
                    return await DeleteAsMissAsync(db, valueKey, lease.Memory.ToArray(), cancellationToken).ConfigureAwait(false);
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
    /// The tagged hit of a key whose tags this store remembers (<see cref="RedisTagGuesses"/>), without a script. On a single
    /// server the entry and the remembered tags' versions are one <c>MGET</c> (one command, read at one instant); on a Cluster,
    /// where a multi-key command cannot span slots, the entry's <c>GET</c> and an <c>MGET</c> of the versions' copies kept in
    /// the entry's slot bucket, in one batch to (almost always) the entry's node. Either way every read is sent after this read
    /// began, so it sees every tag invalidation that returned before it (docs/architecture.md, "The tagged hit" and "The
    /// tagged hit on a Cluster").
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<CacheLookup<TValue>> GetTaggedAsync(IDatabase db, RedisKey valueKey, KeyTagGuess guess, CancellationToken cancellationToken)
    {
        if (ScriptsCheckTags)
        {
            var reply = await PooledTaskWait<RedisValue[]>.WaitAsync(db.StringGetAsync(guess.ReadKeys), cancellationToken).ConfigureAwait(false);
            return reply[0].IsNull
                ? CacheLookup<TValue>.Miss
                : await JudgeTaggedHitAsync(db, valueKey, guess, reply[0], reply.AsSpan(1), cancellationToken).ConfigureAwait(false);
        }

        // One batch: both commands leave in one write and the node answers them together. The MGET goes first so that the
        // GET, awaited first, completes last: this read resumes once, with both answers in (docs/benchmarks.md, "Tags").
        var batch = db.CreateBatch();
        var versionsRead = batch.StringGetAsync(guess.ReadKeys);
        var read = batch.StringGetLeaseAsync(valueKey);
        batch.Execute();
        Lease<byte>? entry;
        try
        {
            entry = await PooledTaskWait<Lease<byte>?>.WaitAsync(read, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The caller gets this failure; the versions' read may fail too, unobserved otherwise.
            _ = versionsRead.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        using (entry)
        {
            var versions = await PooledTaskWait<RedisValue[]>.WaitAsync(versionsRead, cancellationToken).ConfigureAwait(false);
            return entry is null
                ? CacheLookup<TValue>.Miss
                : await JudgeTaggedHitAsync(db, valueKey, guess, entry.Memory, versions, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Judges an entry read together with the versions of the tags remembered for it (on a Cluster, copies of them): a hit
    /// when it carries exactly those tags and none was invalidated after its stamp; an invalidated entry is deleted (only if
    /// unchanged) and read as a miss; other tags than remembered, or a copy missing or pending, are checked against the
    /// versions in a second round trip (missing copies are made meanwhile); sliding, near its deadline or unreadable: the script.
    /// </summary>
    private ValueTask<CacheLookup<TValue>> JudgeTaggedHitAsync(IDatabase db, RedisKey valueKey, KeyTagGuess guess, ReadOnlyMemory<byte> stored, ReadOnlySpan<RedisValue> versions, CancellationToken cancellationToken)
    {
        // The entry's tag list is compared with the remembered one once; a match also names the hit's tags (for a near cache).
        var tags = guess.Tags;
        long stamp = 0;
        var matched = stored.Length >= RedisEnvelope.HeaderLength && RedisEnvelope.IsTagged(stored.Span)
            && TagGuess.TryGetTagList(stored.Span, out stamp, out var tagList) && tags.Matches(tagList);
        if (!TryJudgeByClientClock(db, valueKey, stored, tagsCheckedByCaller: true, out var lookup, out var corrupt, matched ? tags.Names : null))
        {
            // Sliding, near its deadline, or not an envelope: the script decides (and checks the tags on a single server).
            return corrupt ? DeleteAsMissAsync(db, valueKey, stored.ToArray(), cancellationToken) : GetByScriptAsync(db, valueKey, cancellationToken);
        }

        if (!RedisEnvelope.IsTagged(stored.Span))
        {
            _tagGuesses.Forget((string)valueKey!);
            return new(lookup);
        }

        if (matched)
        {
            var check = RedisTags.Judge(versions, stamp);
            if (check == TagCheck.Unknown && !ScriptsCheckTags)
            {
                // A copy is missing or pending: the versions decide this time.
                _tags.MakeMissingCopies(db, guess.ReadKeys, versions, tags.Names);
                return CheckTagsAsync(db, [valueKey], stored.ToArray(), lookup, CommandFlags.None, clientChecks: true, cancellationToken);
            }

            // On a single server a missing version fails closed (it may have been evicted after an invalidation).
            return check == TagCheck.Valid ? new(lookup) : DeleteAsMissAsync(db, valueKey, stored.ToArray(), cancellationToken);
        }

        // Other tags than remembered: read theirs (CheckTagsAsync remembers them).
        return CheckTagsAsync(db, [valueKey], stored.ToArray(), lookup, CommandFlags.None, clientChecks: true, cancellationToken);
    }

    /// <summary>Deletes exactly the bytes read (a newer entry written meanwhile stays) and answers a miss.</summary>
    private static async ValueTask<CacheLookup<TValue>> DeleteAsMissAsync(IDatabase db, RedisKey valueKey, byte[] stored, CancellationToken cancellationToken)
    {
        await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, [valueKey], [stored]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return CacheLookup<TValue>.Miss;
    }

    /// <summary>
    /// Judges a plain <c>GET</c>'s bytes against the estimated server clock: a hit or a stale value when the deadline is
    /// clearly past or ahead; false (the script decides) for a sliding entry, no clock, or a deadline within the error bound.
    /// A tagged entry's tags are not checked here: by the caller when <paramref name="tagsCheckedByCaller"/> or on a Cluster
    /// (the caller checks them after), else the script decides.
    /// </summary>
    private bool TryJudgeByClientClock(IDatabase db, RedisKey valueKey, ReadOnlyMemory<byte> stored, bool tagsCheckedByCaller, out CacheLookup<TValue> lookup, out bool corrupt, string[]? knownTags = null)
    {
        lookup = default;
        corrupt = false;
        if (stored.Length < RedisEnvelope.HeaderLength || stored.Span[0] != RedisEnvelope.FormatVersion)
        {
            return false;
        }

        if (RedisEnvelope.IsTagged(stored.Span))
        {
            NoteTagged();
            if (ScriptsCheckTags && !tagsCheckedByCaller)
            {
                // Tagged entries of this store go to the script from now on: it checks their tags in the same round trip.
                return false;
            }
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
                lookup = Hit(db, stored.Span, value, knownTags);
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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
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
        RedisValue[] args = [TagPrefixArgument];
        try
        {
            result = await PooledTaskWait<RedisResult>.WaitAsync(db.ScriptEvaluateAsync(GetPlainHash, keys, args), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // The server lost its scripts (restart, SCRIPT FLUSH): the text version loads it again.
            result = await db.ScriptEvaluateAsync(RedisScripts.GetPlain, keys, args).WaitAsync(cancellationToken).ConfigureAwait(false);
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
                if (ScriptsCheckTags && RedisEnvelope.IsTagged(stored) && !Volatile.Read(ref _slidingSeen))
                {
                    // Checked by the script; its next hits read the entry and the versions together (GetTaggedAsync).
                    _tagGuesses.Remember((string)valueKey!, stored, cluster: null);
                }

                return await CheckTagsAsync(db, keys, stored, Hit(db, stored, value), CommandFlags.None, cancellationToken).ConfigureAwait(false);
            }

            await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, keys, [stored]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return CacheLookup<TValue>.Miss;
        }

        return await ToLookupAsync(db, keys, 0, 0, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
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
            long stamp;
            try
            {
                (result, stamp) = await LeaseReadAsync(db, keys, token).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                AbandonLease(db, keys, token);
                throw;
            }

            var lookup = await ToLookupAsync(db, keys, token, stamp, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
            if (lookup.Status == CacheLookupStatus.Miss && !lookup.Lease.IsGranted)
            {
                // Only a fresh entry whose payload could not be read, or (on a Cluster) whose tags were invalidated, is a
                // miss without a lease; it is deleted now: ask again, once.
                token = NewToken();
                (result, stamp) = await LeaseReadAsync(db, keys, token).WaitAsync(cancellationToken).ConfigureAwait(false);
                lookup = await ToLookupAsync(db, keys, token, stamp, RedisReadReply.Parse(result), cancellationToken).ConfigureAwait(false);
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
            var tagPrefix = TagPrefixArgument;
            for (var i = 0; i < allKeys.Length; i++)
            {
                tokens[i] = acquireLeases ? NewToken() : 0;
                pending[i] = fromReplicas
                    ? batch.ScriptEvaluateReadOnlyAsync(RedisScripts.GetReadOnly, allKeys[i], null, CommandFlags.PreferReplica)
                    : batch.ScriptEvaluateAsync(RedisScripts.Get, allKeys[i], [acquireLeases ? One : Zero, tokens[i], _leaseMs, tagPrefix]);
            }

            // The leases' tag stamp, in the same batch: read before any load of the batch begins.
            var stampRead = acquireLeases ? _tags.ReadStampAsync(batch) : null;
            batch.Execute();
            try
            {
                await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (stampRead is not null)
                {
                    await stampRead.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (acquireLeases)
            {
                for (var i = 0; i < allKeys.Length; i++)
                {
                    AbandonLease(db, allKeys[i], tokens[i]);
                }

                throw;
            }

            var stamp = stampRead is null ? 0 : RedisTags.ParseStamp(stampRead.Result);
            var results = new CacheLookup<TValue>[allKeys.Length];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = fromReplicas
                    ? await FromReplicaAsync(db, allKeys[i], pending[i].Result, cancellationToken).ConfigureAwait(false)
                    : await ToLookupAsync(db, allKeys[i], tokens[i], stamp, RedisReadReply.Parse(pending[i].Result), cancellationToken).ConfigureAwait(false);
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

        return ToLookupAsync(db, keys, 0, 0, reply, cancellationToken, CommandFlags.PreferReplica);
    }

    /// <summary>
    /// The lease read and the tag clock in one batch (one round trip on a single server; two nodes at once on a Cluster):
    /// the stamp is read before the load begins, whichever of the two the server runs first.
    /// </summary>
    private async Task<(RedisResult Result, long Stamp)> LeaseReadAsync(IDatabase db, RedisKey[] keys, long token)
    {
        var batch = db.CreateBatch();
        var read = batch.ScriptEvaluateAsync(RedisScripts.Get, keys, [One, token, _leaseMs, TagPrefixArgument]);
        var stamp = _tags.ReadStampAsync(batch);
        batch.Execute();
        return (await read.ConfigureAwait(false), RedisTags.ParseStamp(await stamp.ConfigureAwait(false)));
    }

    /// <summary>
    /// Checks the tags of an entry the script could not check (a Cluster, a replica): valid → <paramref name="lookup"/>;
    /// invalidated → the entry is deleted (only if unchanged) and the read is a miss.
    /// </summary>
    private ValueTask<CacheLookup<TValue>> CheckTagsAsync(IDatabase db, RedisKey[] keys, byte[] stored, CacheLookup<TValue> lookup, CommandFlags flags, CancellationToken cancellationToken) =>
        CheckTagsAsync(db, keys, stored, lookup, flags, clientChecks: !ScriptsCheckTags || (flags & CommandFlags.PreferReplica) != 0, cancellationToken);

    /// <summary>
    /// <see cref="CheckTagsAsync(IDatabase, RedisKey[], byte[], CacheLookup{TValue}, CommandFlags, CancellationToken)"/>, told
    /// whether the client checks (<paramref name="clientChecks"/>: false when the script already did). Remembers the entry's tags
    /// for its next hit (<see cref="RedisTagGuesses"/>).
    /// </summary>
    private async ValueTask<CacheLookup<TValue>> CheckTagsAsync(IDatabase db, RedisKey[] keys, byte[] stored, CacheLookup<TValue> lookup, CommandFlags flags, bool clientChecks, CancellationToken cancellationToken)
    {
        if (!clientChecks || !RedisEnvelope.IsTagged(stored))
        {
            return lookup;
        }

        NoteTagged();
        if ((flags & CommandFlags.PreferReplica) == 0 && !Volatile.Read(ref _slidingSeen))
        {
            _tagGuesses.Remember((string)keys[0]!, stored, ScriptsCheckTags ? null : db.Multiplexer);
        }

        if (await _tags.AreValidAsync(db, stored, flags).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            return lookup;
        }

        await db.ScriptEvaluateAsync(RedisScripts.DeleteIfEqual, [keys[0]], [stored], flags & ~CommandFlags.PreferReplica).WaitAsync(cancellationToken).ConfigureAwait(false);
        return CacheLookup<TValue>.Miss;
    }

    private async ValueTask<CacheLookup<TValue>> ToLookupAsync(IDatabase db, RedisKey[] keys, long token, long stamp, RedisReadReply reply, CancellationToken cancellationToken, CommandFlags flags = CommandFlags.None)
    {
        var lease = reply.LeaseGranted ? new CacheLease(token, null) { TagStamp = stamp } : CacheLease.None;
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

        if (reply.Status is ReadStatus.Hit or ReadStatus.Stale or ReadStatus.LeaseHeldElsewhere
            && await CheckTagsAsync(db, keys, reply.Stored, CacheLookup<TValue>.Hit(value), flags, cancellationToken).ConfigureAwait(false) is { Status: CacheLookupStatus.Miss })
        {
            // Its tags were invalidated (checked by the client): deleted now; a lease granted with the stale read stays valid.
            return new CacheLookup<TValue>(reply.Status == ReadStatus.LeaseHeldElsewhere ? CacheLookupStatus.MissLeaseHeldElsewhere : CacheLookupStatus.Miss, default, lease);
        }

        if (reply.Status == ReadStatus.Hit)
        {
            return Hit(db, reply.Stored, value);
        }

        // How long ago the value expired, by the server's clock (the same clock that decided it is stale).
        var expiredFor = TimeSpan.FromMilliseconds(Math.Max(0, reply.ExpiredForMs));
        return held

            // No fresh entry and another client loads it; the stale value travels along.
            ? new CacheLookup<TValue>(CacheLookupStatus.StaleLeaseHeldElsewhere, value, CacheLease.None, expiredFor)
            : CacheLookup<TValue>.Stale(value, lease, expiredFor);
    }

    /// <summary>
    /// A hit saying how long a copy may be served and which tags the entry carries (for a near cache): <paramref name="knownTags"/>
    /// when the caller already matched the entry's tag list with the remembered one, else read from the entry. Without an
    /// estimate of the server's clock the remaining life is unknown: zero, so nothing is copied.
    /// </summary>
    private CacheLookup<TValue> Hit(IDatabase db, ReadOnlySpan<byte> stored, CacheValue<TValue> value, string[]? knownTags = null)
    {
        var freshFor = _clock.TryNow(db, out var now, out var margin) ? RedisEnvelope.FreshFor(stored, now, margin) : TimeSpan.Zero;
        IReadOnlyCollection<string>? tags = !RedisEnvelope.IsTagged(stored) ? []
            : knownTags is not null ? knownTags
            : RedisTags.TryReadSection(stored, out _, out var read) ? read : null;
        return CacheLookup<TValue>.Hit(value, freshFor, tags);
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
