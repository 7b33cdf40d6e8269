using System.Globalization;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// One strategy's entries in memcached, fenced with the meta protocol's leases:
/// <list type="bullet">
/// <item>a lease-asking miss is <c>mg key v f c N&lt;lease&gt;</c>: <c>W</c> = this client won (lease token = the placeholder's CAS),
/// <c>Z</c> = another client holds it (<see cref="CacheLookupStatus.MissLeaseHeldElsewhere"/>);</item>
/// <item>a fill is <c>ms key … C&lt;cas&gt;</c>: <c>EX</c>/<c>NF</c> means a set, invalidation or write touched the key since (fenced);</item>
/// <item>invalidate is <c>md</c>, set is <c>ms</c> (both change or remove the item, so every outstanding lease fails);</item>
/// <item>a stale entry (past the logical deadline in its envelope, kept for <see cref="StoreEntryOptions.StaleRetention"/>) is
/// refreshed by one client at a time: a lease lookup adds the companion item <c>key|refresh</c> (<c>ms … ME</c>, atomic on the
/// server, expires after the lease time); the client that added it gets the lease (token = the stale item's CAS), the others
/// <see cref="CacheLookupStatus.StaleLeaseHeldElsewhere"/> with the stale value (<c>MemcachedCacheStore.Refresh.cs</c>);</item>
/// <item>write-through registers each write in a <em>write marker</em> that takes the entry's place (one item, so every
/// change of it is a CAS-fenced read-modify-write): <c>{writers in flight, token of the latest write}</c>. A completion stores
/// its value with the marker's CAS only when it finds the marker with one writer and its own token; when writes overlapped
/// (or an invalidation, a set or the marker's expiry intervened) the last completion removes the key. See docs/providers.md
/// for the interleavings (<c>MemcachedCacheStore.Writes.cs</c>).</item>
/// </list>
/// A node that cannot answer makes reads <see cref="CacheLookupStatus.Unavailable"/>; writes throw
/// <see cref="MemcachedException"/>, which the core's resilience layer turns into a pending invalidation.
/// </summary>
internal sealed partial class MemcachedCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Suffix of the companion item that says one client is refreshing a stale entry (routed to the entry's node).</summary>
    internal const string RefreshSuffix = "|refresh";

    /// <summary>Marks a lease on a vivified placeholder (releasing it deletes the placeholder).</summary>
    private static readonly object PlaceholderLease = new();

    /// <summary>Marks the exclusive lease on a stale entry: this client added its refresh companion (filling or releasing deletes it).</summary>
    private static readonly object RefreshLease = new();

    /// <summary>Marks a write that could not register (the marker kept changing under it): its completion only removes.</summary>
    private static readonly object UnregisteredWrite = new();

    /// <summary>How many times a CAS-fenced read-modify-write of a write marker is retried before falling back to removing.</summary>
    private const int MaxCasAttempts = 16;

    private readonly CacheStoreDescriptor<TKey, TValue> _descriptor;
    private readonly MemcachedClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _leaseFlags;
    private readonly TimeSpan _leaseTime;
    private readonly TimeSpan _writeTimeout;

    public MemcachedCacheStore(CacheStoreDescriptor<TKey, TValue> descriptor, MemcachedClient client, TimeSpan leaseTime, TimeSpan writeTimeout, TimeProvider time, ILogger logger)
    {
        _descriptor = descriptor;
        _client = client;
        _time = time;
        _logger = logger;
        _leaseTime = leaseTime;
        _writeTimeout = writeTimeout;
        _leaseFlags = string.Create(CultureInfo.InvariantCulture, $"v f c N{client.TtlSeconds(leaseTime)}");
    }

    public async ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        MetaResponse response;
        try
        {
            response = await _client.GetAsync(k, acquireLease ? _leaseFlags : "v f c", cancellationToken).ConfigureAwait(false);
        }
        catch (MemcachedException)
        {
            return CacheLookup<TValue>.Unavailable;
        }

        return await InterpretAsync(k, response, acquireLease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var formatted = keys.Select(KeyOf).ToArray();
        var results = await _client.GetManyAsync(formatted, acquireLeases ? _leaseFlags : "v f c", cancellationToken).ConfigureAwait(false);
        var lookups = new CacheLookup<TValue>[keys.Count];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = results[i].Response is { } response
                ? await InterpretAsync(formatted[i], response, acquireLeases, cancellationToken).ConfigureAwait(false)
                : CacheLookup<TValue>.Unavailable;
        }

        return lookups;
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (!lease.IsGranted)
        {
            return false;
        }

        var k = KeyOf(key);
        byte[] bytes;
        try
        {
            bytes = Encode(k, value, options, out _);
        }
        catch
        {
            await ReleaseAsync(k, lease, cancellationToken).ConfigureAwait(false);
            throw;
        }

        var flags = string.Create(CultureInfo.InvariantCulture, $"F{Flags(value)} C{(ulong)lease.Token}");
        var store = _client.StoreCommand(k, bytes, PhysicalTtl(options), flags);
        if (lease.State != RefreshLease)
        {
            return (await _client.ExecuteAsync(store, cancellationToken).ConfigureAwait(false)).Status == MetaStatus.Stored;
        }

        // The fill and the end of the refresh in one write: the companion goes whether or not the fill was fenced off.
        var replies = await _client.ExecuteOnNodeOfAsync(k, [store, _client.Command("md", k + RefreshSuffix, string.Empty)], cancellationToken).ConfigureAwait(false);
        return replies[0].Status == MetaStatus.Stored;
    }

    public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken) =>
        ReleaseAsync(KeyOf(key), lease, cancellationToken);

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        var bytes = Encode(k, value, options, out _);
        var flags = string.Create(CultureInfo.InvariantCulture, $"F{Flags(value)}");
        await _client.SetAsync(k, bytes, PhysicalTtl(options), flags, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RefreshAsync(TKey key, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        var response = await _client.GetAsync(k, "v f c", cancellationToken).ConfigureAwait(false);
        if (response.Status == MetaStatus.Value && response.Value is { Length: > 0 })
        {
            await InterpretAsync(k, response, acquireLease: false, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken) =>
        await _client.DeleteAsync(KeyOf(key), string.Empty, cancellationToken).ConfigureAwait(false);

    private string KeyOf(TKey key) => _descriptor.KeyPrefix + _descriptor.KeyFormatter(key);

    public void ValidateKey(TKey key) => _ = _client.EncodeKey(KeyOf(key));

    private static uint Flags(CacheValue<TValue> value) => value.Exists ? 0 : Envelope.NotFoundFlag;

    /// <summary>
    /// Absolute entries live for their expiration plus the fail-safe retention (the envelope's deadline tells Hit from Stale);
    /// sliding entries live for the sliding window (capped by the absolute expiration), renewed by each hit, and are not
    /// kept for fail-safe.
    /// </summary>
    private static TimeSpan? PhysicalTtl(StoreEntryOptions options) => options.SlidingExpiration is { } sliding
        ? (options.AbsoluteExpiration is { } absolute && absolute < sliding ? absolute : sliding)
        : options.PhysicalTimeToLive();

    private byte[] Encode(string key, CacheValue<TValue> value, StoreEntryOptions options, out long deadline)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        deadline = options.AbsoluteExpiration is { } absolute ? now + (long)absolute.TotalMilliseconds : 0;
        var sliding = options.SlidingExpiration is { } s ? (long)s.TotalMilliseconds : 0;
        var bytes = Envelope.Write(value, _descriptor.Serializer, deadline, sliding);
        _client.CheckValueSize(key, bytes.Length);
        return bytes;
    }

    private async ValueTask<CacheLookup<TValue>> InterpretAsync(string key, MetaResponse response, bool acquireLease, CancellationToken cancellationToken)
    {
        if (response.Status != MetaStatus.Value || response.Value is null)
        {
            return CacheLookup<TValue>.Miss;
        }

        if (response.Value.Length == 0 || response.IsStale || Envelope.IsMarker(response.Value))
        {
            // A vivified placeholder (someone's lease), a write marker (writes in flight) or an item marked stale by md I.
            if (acquireLease && response.Won)
            {
                return new CacheLookup<TValue>(CacheLookupStatus.Miss, default, new CacheLease((long)response.Cas, PlaceholderLease));
            }

            return acquireLease && (response.LeaseHeldElsewhere || Envelope.IsMarker(response.Value))
                ? new CacheLookup<TValue>(CacheLookupStatus.MissLeaseHeldElsewhere, default, CacheLease.None)
                : CacheLookup<TValue>.Miss;
        }

        CacheValue<TValue> value;
        long deadline, sliding;
        try
        {
            (value, deadline, sliding) = Envelope.Read(response.Value, _descriptor.Serializer);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _descriptor.Observer?.OnCorruptEntry(key, ex);
            Log.CorruptEntry(_logger, key, ex);
            try
            {
                await _client.DeleteAsync(key, string.Empty, cancellationToken).ConfigureAwait(false);
            }
            catch (MemcachedException)
            {
                // It expires on its own.
            }

            return CacheLookup<TValue>.Miss;
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (deadline == 0 || now < deadline)
        {
            if (sliding > 0)
            {
                await TouchAsync(key, deadline == 0 ? sliding : Math.Min(sliding, deadline - now), cancellationToken).ConfigureAwait(false);
            }

            return CacheLookup<TValue>.Hit(value);
        }

        // Past its logical expiry, kept for stale serving: one client at a time may refresh it.
        var expiredFor = TimeSpan.FromMilliseconds(now - deadline);
        return acquireLease
            ? await ClaimRefreshAsync(key, response.Cas, value, expiredFor, cancellationToken).ConfigureAwait(false)
            : CacheLookup<TValue>.Stale(value, CacheLease.None, expiredFor);
    }

    private async ValueTask TouchAsync(string key, long ttlMs, CancellationToken cancellationToken)
    {
        try
        {
            var seconds = _client.TtlSeconds(TimeSpan.FromMilliseconds(Math.Max(ttlMs, 1)));
            await _client.GetAsync(key, string.Create(CultureInfo.InvariantCulture, $"T{seconds}"), cancellationToken).ConfigureAwait(false);
        }
        catch (MemcachedException)
        {
            // The hit stands; the entry may expire earlier than it would have.
        }
    }

    private async ValueTask ReleaseAsync(string key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (lease.State == RefreshLease)
        {
            // The stale value stays (fail-safe); another client may refresh it now.
            await _client.ExecuteOnNodeOfAsync(key, [_client.Command("md", key + RefreshSuffix, string.Empty)], cancellationToken).ConfigureAwait(false);
            return;
        }

        if (lease.State != PlaceholderLease)
        {
            return;
        }

        // Deletes the placeholder only if it is still ours (same CAS).
        await _client.DeleteAsync(key, string.Create(CultureInfo.InvariantCulture, $"C{(ulong)lease.Token}"), cancellationToken).ConfigureAwait(false);
    }
}
