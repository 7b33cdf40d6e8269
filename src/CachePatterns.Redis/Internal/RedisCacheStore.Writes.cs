using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>The fills and writes of <see cref="RedisCacheStore{TKey, TValue}"/>, each one fenced script.</summary>
internal sealed partial class RedisCacheStore<TKey, TValue>
{
    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (lease.Token == 0)
        {
            return false;
        }

        var keys = Keys(key);
        try
        {
            ThrowIfNodeDown(keys[0]);
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
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
            if (options.Tags is not { Count: > 0 } tags)
            {
                var result = await db.ScriptEvaluateAsync(RedisPublishingScripts.Fill, keys, Publishing(lease.Token, payload, Flags(value), abs, sliding, retention))
                    .WaitAsync(cancellationToken).ConfigureAwait(false);
                return (long)result == 1;
            }

            // Stamped with the lease's clock read (before the load began); stored only if no tag was invalidated since.
            NoteTagged();
            var batch = db.CreateBatch();
            var fill = batch.ScriptEvaluateAsync(RedisPublishingScripts.Fill, keys, Publishing(lease.Token, RedisTags.EncodeSection(lease.TagStamp, tags, payload), TaggedFlags(value), abs, sliding, retention));
            var check = _tags.CheckAfterStoreAsync(batch, lease.TagStamp, tags, TagLifetimeMs(options));
            batch.Execute();
            return (long)await fill.WaitAsync(cancellationToken).ConfigureAwait(false) == 1
                & (long)await check.WaitAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, keys[0], cancellationToken);
        }
    }

    public async ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (lease.Token == 0)
        {
            return;
        }

        await RunAsync(RedisScripts.Release, Keys(key), [lease.Token], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        var payload = Serialize(keys[0], value);
        var (abs, sliding, retention) = Expiration(options);
        NoteSliding(options);
        if (options.Tags is not { Count: > 0 } tags)
        {
            await RunAsync(RedisPublishingScripts.Set, keys, Publishing(payload, Flags(value), abs, sliding, retention), cancellationToken).ConfigureAwait(false);
            return;
        }

        await RunTaggedAsync(RedisPublishingScripts.Set, keys, tags, options, stamp => Publishing(RedisTags.EncodeSection(stamp, tags, payload), TaggedFlags(value), abs, sliding, retention), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// A tagged set or write completion: reads the tag clock (the entry's stamp: now), then runs the script and the tag
    /// check together. Two round trips. Returns the script's answer and whether the tags were still valid.
    /// </summary>
    private async Task<(long Result, bool Valid)> RunTaggedAsync(string script, RedisKey[] keys, IReadOnlyCollection<string> tags, StoreEntryOptions options, Func<long, RedisValue[]> values, CancellationToken cancellationToken)
    {
        NoteTagged();
        try
        {
            ThrowIfNodeDown(keys[0]);
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var stamp = RedisTags.ParseStamp(await _tags.ReadStampAsync(db).WaitAsync(cancellationToken).ConfigureAwait(false));
            var batch = db.CreateBatch();
            var run = batch.ScriptEvaluateAsync(script, keys, values(stamp));
            var check = _tags.CheckAfterStoreAsync(batch, stamp, tags, TagLifetimeMs(options));
            batch.Execute();
            return ((long)await run.WaitAsync(cancellationToken).ConfigureAwait(false), (long)await check.WaitAsync(cancellationToken).ConfigureAwait(false) == 1);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, keys[0], cancellationToken);
        }
    }

    public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken) =>
        await RunAsync(RedisScripts.Refresh, Keys(key), [], cancellationToken).ConfigureAwait(false);

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        var removed = (long)await RunAsync(RedisPublishingScripts.Invalidate, Keys(key), Publishing(), cancellationToken).ConfigureAwait(false);
        if (removed > 0)
        {
            _descriptor.Observer?.OnEvicted(CacheEvictionReason.Removed, 1);
        }
    }

    public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        try
        {
            ThrowIfNodeDown(keys[0]);
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
                _ = db.ScriptEvaluateAsync(RedisPublishingScripts.AbortWrite, keys, Publishing(token), CommandFlags.FireAndForget);
                throw;
            }

            return new CacheWriteToken(token, null);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, keys[0], cancellationToken);
        }
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var keys = Keys(key);
        if (token.Token == 0)
        {
            await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
            return false;
        }

        byte[] payload;
        try
        {
            payload = Serialize(keys[0], value);
        }
        catch
        {
            // The database has the value but the cache cannot hold it: end the write by removing the key.
            await RunAsync(RedisPublishingScripts.AbortWrite, keys, Publishing(token.Token), cancellationToken).ConfigureAwait(false);
            throw;
        }

        var (abs, sliding, retention) = Expiration(options);
        NoteSliding(options);
        if (options.Tags is not { Count: > 0 } tags)
        {
            var result = await RunAsync(RedisPublishingScripts.CompleteWrite, keys, Publishing(token.Token, payload, Flags(value), abs, sliding, retention), cancellationToken)
                .ConfigureAwait(false);
            return (long)result == 1;
        }

        var (stored, valid) = await RunTaggedAsync(
            RedisPublishingScripts.CompleteWrite,
            keys,
            tags,
            options,
            stamp => Publishing(token.Token, RedisTags.EncodeSection(stamp, tags, payload), TaggedFlags(value), abs, sliding, retention),
            cancellationToken).ConfigureAwait(false);
        return stored == 1 && valid;
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken)
    {
        if (token.Token == 0)
        {
            await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
            return;
        }

        await RunAsync(RedisPublishingScripts.AbortWrite, Keys(key), Publishing(token.Token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one script on the primary, translating a Redis failure.</summary>
    private async Task<RedisResult> RunAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            ThrowIfNodeDown(keys[0]);
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            return await db.ScriptEvaluateAsync(script, keys, values).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFailure(ex, cancellationToken))
        {
            throw Failure(ex, keys[0], cancellationToken);
        }
    }
}
