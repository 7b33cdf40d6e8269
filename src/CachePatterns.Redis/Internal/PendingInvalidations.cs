using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// Invalidations (invalidate, set, write completion or abort) that failed while Redis was unreachable, kept per provider
/// and replayed as soon as the connection is restored (StackExchange.Redis <c>ConnectionRestored</c>) or a periodic
/// probe gets through, so other processes stop seeing the old value as early as this process can tell them.
/// </summary>
/// <remarks>
/// <para>Until its replay succeeds, a pending key is not read or filled from Redis by this provider (reads answer
/// <see cref="Providers.CacheLookupStatus.Unavailable"/> and go to the loader).</para>
/// <para>The list is bounded by <see cref="RedisCacheProviderOptions.MaxPendingInvalidations"/>. On overflow it is
/// dropped for a <b>sweep</b>: every key of this provider's instance name is found with <c>SCAN</c> on every primary
/// (so it works on a Cluster) and invalidated with the same atomic script. A lease or write registration granted before
/// the lost invalidations can still fill after the sweep passed its key, so sweeps repeat until one starts at least
/// <c>max(LeaseTimeout, WriteTimeout)</c> after the last failure (by then every such lease has expired). Until then every
/// read of this provider goes to the loader.</para>
/// </remarks>
internal sealed class PendingInvalidations : IDisposable
{
    private readonly ConcurrentDictionary<RedisKey, long> _keys = new();
    private readonly RedisConnection _connection;
    private readonly RedisCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly TimeSpan _quietPeriod;
    private long _generation;
    private long _replayed;
    private long _lastOverflowFailure;
    private int _replaying;
    private volatile bool _overflowed;

    // The hit path's check. ConcurrentDictionary.IsEmpty takes every lock of an empty dictionary, so concurrent hits
    // contended on it; this flag is set after a key is added and cleared only when the dictionary is seen empty.
    private volatile bool _mayHaveKeys;

    public PendingInvalidations(RedisConnection connection, RedisCacheProviderOptions options, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _options = options;
        _time = time;
        _logger = logger;
        _quietPeriod = options.LeaseTimeout > options.WriteTimeout ? options.LeaseTimeout : options.WriteTimeout;
        _timer = time.CreateTimer(static s => _ = ((PendingInvalidations)s!).ReplayAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        connection.Restored += () => _ = ReplayAsync();
    }

    /// <summary>Gets a value indicating whether nothing waits for a replay (the hit path's only check).</summary>
    public bool IsEmpty => !_mayHaveKeys && !_overflowed;

    /// <summary>Gets a value indicating whether the list overflowed and a sweep has not finished yet.</summary>
    public bool Overflowed => _overflowed;

    /// <summary>Gets how many keys wait for a replay (tests, health).</summary>
    public int Count => _keys.Count;

    /// <summary>Gets how many keys were replayed successfully so far (tests, health).</summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Whether a read or fill of this value key must skip Redis.</summary>
    public bool Blocks(RedisKey valueKey) => _overflowed || (_mayHaveKeys && _keys.ContainsKey(valueKey));

    /// <summary>Remembers a value key whose invalidation may not have reached the server.</summary>
    public void Remember(RedisKey valueKey)
    {
        if (_overflowed)
        {
            Interlocked.Exchange(ref _lastOverflowFailure, _time.GetTimestamp());
        }
        else if (_keys.Count >= _options.MaxPendingInvalidations)
        {
            Interlocked.Exchange(ref _lastOverflowFailure, _time.GetTimestamp());
            _overflowed = true;
            _keys.Clear();
            Log.PendingInvalidationsOverflowed(_logger, _options.MaxPendingInvalidations);
        }
        else
        {
            _keys[valueKey] = Interlocked.Increment(ref _generation);
            _mayHaveKeys = true;
        }

        _timer.Change(_options.PendingReplayInterval, _options.PendingReplayInterval);
    }

    /// <summary>Tries to invalidate one pending key now (a read of it is waiting); false if Redis still does not answer.</summary>
    public async ValueTask<bool> TryReplayAsync(RedisKey valueKey, CancellationToken cancellationToken)
    {
        if (_overflowed)
        {
            return false;
        }

        if (!_keys.TryGetValue(valueKey, out var generation))
        {
            return true;
        }

        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await Invalidate(db, valueKey).WaitAsync(_options.PendingReplayInterval, _time, cancellationToken).ConfigureAwait(false);
            Done(valueKey, generation);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Replays every pending key (and sweeps after an overflow); one run at a time, no exception escapes.</summary>
    public async Task ReplayAsync()
    {
        if (IsEmpty || Interlocked.Exchange(ref _replaying, 1) == 1)
        {
            return;
        }

        try
        {
            var db = await _connection.GetDatabaseAsync().ConfigureAwait(false);
            if (!_keys.IsEmpty)
            {
                await ReplayKeysAsync(db).ConfigureAwait(false);
            }

            if (_overflowed)
            {
                await SweepAsync(db).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            Log.PendingReplayFailed(_logger, _keys.Count, ex.GetType().Name);
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
            if (IsEmpty)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

                // A key remembered while the timer was being stopped must not wait for the next failure.
                if (!IsEmpty)
                {
                    _timer.Change(_options.PendingReplayInterval, _options.PendingReplayInterval);
                }
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private async Task ReplayKeysAsync(IDatabase db)
    {
        const int Chunk = 512;
        var pending = _keys.ToArray();
        var replayed = 0;
        for (var start = 0; start < pending.Length; start += Chunk)
        {
            var count = Math.Min(Chunk, pending.Length - start);
            var batch = db.CreateBatch();
            var tasks = new Task[count];
            for (var i = 0; i < count; i++)
            {
                tasks[i] = Invalidate(batch, pending[start + i].Key);
            }

            batch.Execute();
            await Task.WhenAll(tasks).WaitAsync(_options.PendingReplayInterval + _options.PendingReplayInterval, _time).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                Done(pending[start + i].Key, pending[start + i].Value);
            }

            replayed += count;
        }

        Log.PendingInvalidationsReplayed(_logger, replayed);
    }

    private async Task SweepAsync(IDatabase db)
    {
        var started = _time.GetTimestamp();
        var multiplexer = _connection.Multiplexer ?? throw new InvalidOperationException("Not connected.");
        var pattern = EscapeGlob("{" + _options.InstanceName) + "*";
        var swept = 0;
        var primaries = 0;
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                // A node we cannot reach may be a primary holding our keys: this sweep cannot count as complete.
                Log.PendingReplayFailed(_logger, 0, "a node is not connected");
                return;
            }

            if (server.IsReplica)
            {
                continue;
            }

            primaries++;

            var batch = new List<RedisKey>(256);
            await foreach (var key in server.KeysAsync(db.Database, pattern, pageSize: 1000).ConfigureAwait(false))
            {
                batch.Add(ValueKeyOf(key));
                if (batch.Count == 256)
                {
                    swept += await InvalidateAllAsync(db, batch).ConfigureAwait(false);
                }
            }

            swept += await InvalidateAllAsync(db, batch).ConfigureAwait(false);
        }

        var lastFailure = Interlocked.Read(ref _lastOverflowFailure);
        var done = primaries > 0 && _time.GetElapsedTime(lastFailure, started) >= _quietPeriod;
        Log.PendingSweepDone(_logger, swept, done);
        if (done)
        {
            RefreshMayHaveKeys();
            _overflowed = false;

            // A failure that came in meanwhile needs its own sweep.
            if (Interlocked.Read(ref _lastOverflowFailure) != lastFailure)
            {
                _overflowed = true;
            }
        }
    }

    private async Task<int> InvalidateAllAsync(IDatabase db, List<RedisKey> keys)
    {
        var batch = db.CreateBatch();
        var tasks = keys.Select(k => Invalidate(batch, k)).ToArray();
        batch.Execute();
        await Task.WhenAll(tasks).WaitAsync(_options.PendingReplayInterval + _options.PendingReplayInterval, _time).ConfigureAwait(false);
        var count = keys.Count;
        keys.Clear();
        return count;
    }

    private void Done(RedisKey valueKey, long generation)
    {
        // A failure remembered again while the replay was on its way keeps the key pending.
        if (_keys.TryRemove(new KeyValuePair<RedisKey, long>(valueKey, generation)))
        {
            Interlocked.Increment(ref _replayed);
            RefreshMayHaveKeys();
        }
    }

    private static Task<RedisResult> Invalidate(IDatabaseAsync db, RedisKey valueKey)
    {
        var value = (string)valueKey!;
        return db.ScriptEvaluateAsync(RedisScripts.Invalidate, [valueKey, value + ":l", value + ":w"]);
    }

    /// <summary>The value key of a value, lease (<c>…}:l</c>) or writes (<c>…}:w</c>) key.</summary>
    private static RedisKey ValueKeyOf(RedisKey key)
    {
        var text = (string)key!;
        return text.EndsWith("}:l", StringComparison.Ordinal) || text.EndsWith("}:w", StringComparison.Ordinal) ? text[..^2] : key;
    }

    private static string EscapeGlob(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private void RefreshMayHaveKeys()
    {
        // Cleared first, then checked, with a full fence between: a key remembered meanwhile sets it again.
        _mayHaveKeys = false;
        Interlocked.MemoryBarrier();
        if (!_keys.IsEmpty)
        {
            _mayHaveKeys = true;
        }
    }
}
