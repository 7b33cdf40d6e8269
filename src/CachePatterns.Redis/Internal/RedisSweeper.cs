using System.Text;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// <para><see cref="ICacheProvider.SweepAsync"/> for Redis: every key of the instance name and key prefix is found with
/// <c>SCAN</c> on every primary (so it works on a Cluster) and invalidated with the same atomic script as one
/// invalidation (value removed, lease revoked, writes in flight outdated). Value, lease (<c>…}:l</c>) and writes
/// (<c>…}:w</c>) keys all lead to their value key, so a lease or write registration whose value is absent is revoked too.</para>
/// <para><c>SCAN</c> returns every key that exists for its whole run, not one created during it. So the sweep makes two
/// passes: the first revokes every lease and write registration that existed when it started (or removes what one of them
/// stored, if it was used before the cursor got there: that value is created during the first pass and is seen by the
/// second, which starts after the first ended). A lease or registration the first pass revoked can store nothing later.
/// So after the sweep neither an entry that existed when it started nor anything a lease or registration granted before
/// it could still store remains, which is what the contract asks.</para>
/// </summary>
internal static class RedisSweeper
{
    private const int BatchSize = 256;

    public static async ValueTask<long> SweepAsync(RedisConnection connection, string pattern, RedisInvalidationChannel invalidations, CancellationToken cancellationToken)
    {
        RedisValue[] publishing = [invalidations.ChannelArgument, invalidations.Source];
        var first = await PassAsync(connection, pattern, publishing, cancellationToken).ConfigureAwait(false);
        return first + await PassAsync(connection, pattern, publishing, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<long> PassAsync(RedisConnection connection, string pattern, RedisValue[] publishing, CancellationToken cancellationToken)
    {
        var db = await connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var multiplexer = connection.Multiplexer ?? throw new CacheProviderException(CacheProviderFailureReason.ConnectionFailed, "Redis: not connected.");
        long swept = 0;
        var primaries = 0;
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                // A node we cannot reach may be a primary holding our keys: this sweep cannot count as complete.
                throw new CacheProviderException(CacheProviderFailureReason.ConnectionFailed, $"Redis: {server.EndPoint} is not connected; the sweep cannot cover it.");
            }

            if (server.IsReplica)
            {
                continue;
            }

            primaries++;
            var batch = new List<RedisKey>(BatchSize);
            await foreach (var key in server.KeysAsync(db.Database, pattern, pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                batch.Add(ValueKeyOf(key));
                if (batch.Count == BatchSize)
                {
                    swept += await InvalidateAllAsync(db, batch, publishing, cancellationToken).ConfigureAwait(false);
                }
            }

            swept += await InvalidateAllAsync(db, batch, publishing, cancellationToken).ConfigureAwait(false);
        }

        return primaries > 0
            ? swept
            : throw new CacheProviderException(CacheProviderFailureReason.ConnectionFailed, "Redis: no primary is connected; nothing was swept.");
    }

    /// <summary>The <c>SCAN</c> pattern of every key under a prefix of the instance: <c>{instance + prefix*</c>, glob characters escaped.</summary>
    public static string PatternOf(string instanceName, string keyPrefix)
    {
        var text = "{" + instanceName + keyPrefix;
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.Append('*').ToString();
    }

    private static async Task<int> InvalidateAllAsync(IDatabase db, List<RedisKey> keys, RedisValue[] publishing, CancellationToken cancellationToken)
    {
        var batch = db.CreateBatch();
        var tasks = keys.Distinct().Select(k => batch.ScriptEvaluateAsync(RedisPublishingScripts.Invalidate, [k, (string)k! + ":l", (string)k! + ":w"], publishing)).ToArray();
        batch.Execute();
        await Task.WhenAll(tasks).WaitAsync(cancellationToken).ConfigureAwait(false);
        var count = tasks.Length;
        keys.Clear();
        return count;
    }

    /// <summary>The value key of a value, lease (<c>…}:l</c>) or writes (<c>…}:w</c>) key.</summary>
    private static RedisKey ValueKeyOf(RedisKey key)
    {
        var text = (string)key!;
        return text.EndsWith("}:l", StringComparison.Ordinal) || text.EndsWith("}:w", StringComparison.Ordinal) ? text[..^2] : key;
    }
}
