using System.Buffers.Binary;
using System.Globalization;
using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>Stale-while-revalidate on memcached: one client at a time claims the refresh of a stale entry.</summary>
internal sealed partial class MemcachedCacheStore<TKey, TValue>
{
    /// <summary>
    /// Takes the right to refresh a stale entry by adding its companion item (<c>ms key|refresh … ME</c>: only one client
    /// succeeds, and it expires after the lease time if that client dies). A companion left from an older version of the
    /// entry (it holds another CAS) is taken over with a CAS-fenced store. When the node cannot answer, the lease is not
    /// exclusive but still fenced by the entry's CAS.
    /// </summary>
    private async ValueTask<CacheLookup<TValue>> ClaimRefreshAsync(string key, ulong cas, CacheValue<TValue> value, TimeSpan expiredFor, CancellationToken cancellationToken)
    {
        var target = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(target, cas);
        var won = CacheLookup<TValue>.Stale(value, new CacheLease((long)cas, RefreshLease), expiredFor);
        var heldElsewhere = new CacheLookup<TValue>(CacheLookupStatus.StaleLeaseHeldElsewhere, value, CacheLease.None, expiredFor);
        var entry = _client.Command("mg", key, "c");
        try
        {
            // The entry is read back after the claim, in the same batch: a claim that lands after another client's fill
            // (or a write) replaced the stale version is given back at once instead of loading for nothing.
            var replies = await _client.ExecuteOnNodeOfAsync(
                key,
                [ClaimCommand(key, target, "ME"), RefreshClaim("mg", key, "v c"), entry],
                cancellationToken).ConfigureAwait(false);
            var claimed = replies[0].Status == MetaStatus.Stored;
            if (!claimed
                && replies[1] is { Status: MetaStatus.Value, Value: { Length: sizeof(ulong) } held } holder
                && BinaryPrimitives.ReadUInt64LittleEndian(held) != cas)
            {
                var flags = string.Create(CultureInfo.InvariantCulture, $"C{holder.Cas}");
                replies = await _client.ExecuteOnNodeOfAsync(key, [ClaimCommand(key, target, flags), entry], cancellationToken).ConfigureAwait(false);
                claimed = replies[0].Status == MetaStatus.Stored;
            }

            if (!claimed)
            {
                return heldElsewhere;
            }

            if (replies[^1] is { Status: MetaStatus.Value or MetaStatus.Stored } current && current.Cas == cas)
            {
                return won;
            }

            // Someone else's fill or a write replaced the version this client saw: its refresh is not needed.
            await _client.ExecuteOnNodeOfAsync(key, [RefreshClaim("md", key, string.Empty)], cancellationToken).ConfigureAwait(false);
            return heldElsewhere;
        }
        catch (Exception ex) when (ex is MemcachedException or ArgumentException)
        {
            // The node did not answer: a shared lease, still fenced.
            return CacheLookup<TValue>.Stale(value, new CacheLease((long)cas, null), expiredFor);
        }
    }

    private MetaCommand ClaimCommand(string key, byte[] target, string flags) =>
        _client.StoreCommand(key, _client.CompanionKey(key, RefreshRole), target, _leaseTime, flags);
}
