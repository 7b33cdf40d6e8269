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
/// refreshed by one client at a time: a lease lookup adds the companion refresh claim (<see cref="MemcachedClient.CompanionKey"/>,
/// a key no application key can reach) (<c>ms … ME</c>, atomic on the
/// server, expires after the lease time); the client that added it gets the lease (token = the stale item's CAS), the others
/// <see cref="CacheLookupStatus.StaleLeaseHeldElsewhere"/> with the stale value (<c>MemcachedCacheStore.Refresh.cs</c>);</item>
/// <item>write-through registers each write in a <em>write marker</em> that takes the entry's place (one item, so every
/// change of it is a CAS-fenced read-modify-write): <c>{writers in flight, token of the latest write}</c>. A completion stores
/// its value with the marker's CAS only when it finds the marker with one writer and its own token; when writes overlapped
/// (or an invalidation, a set or the marker's expiry intervened) the last completion removes the key. See docs/providers.md
/// for the interleavings (<c>MemcachedCacheStore.Writes.cs</c>).</item>
/// </list>
/// A node that cannot answer makes every call throw <see cref="MemcachedException"/> (a <see cref="CacheProviderException"/>
/// naming the node); the core's resilience layer decides what that means. A multi-get answers
/// <see cref="CacheLookupStatus.Unavailable"/> for the keys of a failed node when other nodes answered, and throws when none did.
/// <para>
/// Whatever grants a lease (a lease lookup, a write registration) runs to its end even when the caller stops waiting;
/// a lease granted to a caller that gave up is given back at once (<c>GiveBackAsync</c>), never left to expire.
/// </para>
/// </summary>
internal sealed partial class MemcachedCacheStore<TKey, TValue> : ICacheStore<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Role of the companion item that says one client is refreshing a stale entry (routed to the entry's node).</summary>
    internal const string RefreshRole = "refresh";

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
    private readonly string _leaseFlags;
    private readonly TimeSpan _leaseTime;
    private readonly TimeSpan _writeTimeout;
    private readonly MemcachedTags _tags;

    /// <summary>The tags each recently read tagged key carried: its next hit reads the entry and the versions together.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]> _tagGuesses = new(StringComparer.Ordinal);
    private bool _tagsSeen;

    /// <summary>Keys whose tags a store remembers, at most.</summary>
    internal const int TagGuessCapacity = 4096;

    public MemcachedCacheStore(CacheStoreDescriptor<TKey, TValue> descriptor, MemcachedClient client, TimeSpan leaseTime, TimeSpan writeTimeout, TimeProvider time, MemcachedTags tags)
    {
        _tags = tags;
        _descriptor = descriptor;
        _tagsSeen = descriptor.EntriesCarryTags;
        _client = client;
        _time = time;
        _leaseTime = leaseTime;
        _writeTimeout = writeTimeout;
        _leaseFlags = string.Create(CultureInfo.InvariantCulture, $"v f c N{client.TtlSeconds(leaseTime)}");
    }

    public async ValueTask<CacheLookup<TValue>> GetAsync(TKey key, bool acquireLease, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        if (!acquireLease)
        {
            if (Volatile.Read(ref _tagsSeen) && _tagGuesses.TryGetValue(k, out var guess))
            {
                return await GetTaggedAsync(k, guess, cancellationToken).ConfigureAwait(false);
            }

            var response = await _client.GetAsync(k, "v f c", cancellationToken).ConfigureAwait(false);
            return await InterpretAsync(k, response, acquireLease: false, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var lookup = LookupWithLeaseAsync(k);
        try
        {
            return await lookup.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = GiveBackAsync(k, lookup);
            throw;
        }
    }

    public async ValueTask<CacheLookup<TValue>[]> GetManyAsync(IReadOnlyList<TKey> keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var formatted = keys.Select(KeyOf).ToArray();
        if (!acquireLeases)
        {
            return await LookupManyAsync(formatted, acquireLeases: false, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var lookups = LookupManyAsync(formatted, acquireLeases: true, CancellationToken.None);
        try
        {
            return await lookups.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = GiveBackAsync(formatted, lookups);
            throw;
        }
    }

    public async ValueTask<bool> FillAsync(TKey key, CacheLease lease, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (!lease.IsGranted)
        {
            return false;
        }

        var k = KeyOf(key);
        MetaCommand store;
        try
        {
            // Stamped with the clock read when the lease was granted (before the load began).
            if (options.Tags is { Count: > 0 })
            {
                NoteTagged();
            }

            var bytes = Encode(k, value, options, lease.TagStamp);
            var flags = string.Create(CultureInfo.InvariantCulture, $"F{Flags(value)} C{(ulong)lease.Token}");
            store = _client.StoreCommand(k, bytes, PhysicalTtl(options), flags);
        }
        catch
        {
            await ReleaseAsync(k, lease, cancellationToken).ConfigureAwait(false);
            throw;
        }

        // Sent whatever the token says (the fill ends the lease either way); the token only stops the wait.
        bool stored;
        if (lease.State != RefreshLease)
        {
            stored = (await _client.ExecuteAsync(store, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false)).Status == MetaStatus.Stored;
        }
        else
        {
            // The fill and the end of the refresh in one write: the claim goes whether or not the fill was fenced off.
            var replies = await _client.ExecuteOnNodeOfAsync(k, [store, RefreshClaim("md", k, string.Empty)], CancellationToken.None)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            stored = replies[0].Status == MetaStatus.Stored;
        }

        // A tag invalidated since the lease was granted: the entry was born invalid (every reader checks the versions).
        return stored && await TagsStayValidAsync(lease.TagStamp, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a store: creates and extends the entry's tag versions; false when one was invalidated after <paramref name="stamp"/>.</summary>
    private async ValueTask<bool> TagsStayValidAsync(long stamp, StoreEntryOptions options, CancellationToken cancellationToken) =>
        options.Tags is not { Count: > 0 } tags
        || await _tags.CheckAfterStoreAsync(stamp, tags, options.AbsoluteExpiration + options.StaleRetention, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The stamp of a set or write completion (the clock now); 0 for an untagged entry (no round trip).</summary>
    private async ValueTask<long> StampForStoreAsync(StoreEntryOptions options, CancellationToken cancellationToken)
    {
        if (options.Tags is not { Count: > 0 })
        {
            return 0;
        }

        NoteTagged();
        return await _tags.ReadStampAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>From the first tagged store on, this store's leases carry a tag stamp (one more round trip per miss).</summary>
    private void NoteTagged()
    {
        if (!Volatile.Read(ref _tagsSeen))
        {
            Volatile.Write(ref _tagsSeen, true);
        }
    }

    public ValueTask ReleaseLeaseAsync(TKey key, CacheLease lease, CancellationToken cancellationToken) =>
        ReleaseAsync(KeyOf(key), lease, cancellationToken);

    public async ValueTask SetAsync(TKey key, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        var stamp = await StampForStoreAsync(options, cancellationToken).ConfigureAwait(false);
        var bytes = Encode(k, value, options, stamp);
        var flags = string.Create(CultureInfo.InvariantCulture, $"F{Flags(value)}");
        await _client.SetAsync(k, bytes, PhysicalTtl(options), flags, cancellationToken).ConfigureAwait(false);
        await TagsStayValidAsync(stamp, options, cancellationToken).ConfigureAwait(false);
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

    /// <summary>A command on the refresh claim of <paramref name="key"/> (the provider's own item, see <see cref="MemcachedClient.CompanionKey"/>).</summary>
    private MetaCommand RefreshClaim(string verb, string key, string flags) => new(verb, _client.CompanionKey(key, RefreshRole), flags);

    /// <summary>The lease lookup, run to its end whoever waits for it (its caller may give up: <c>GiveBackAsync</c>).</summary>
    private async Task<CacheLookup<TValue>> LookupWithLeaseAsync(string key)
    {
        var response = await _client.GetAsync(key, _leaseFlags, CancellationToken.None).ConfigureAwait(false);
        var lookup = await InterpretAsync(key, response, acquireLease: true, CancellationToken.None).ConfigureAwait(false);
        if (lookup.Status == CacheLookupStatus.Miss && !lookup.Lease.IsGranted)
        {
            // An entry whose tags were invalidated (deleted now) or an unread placeholder: ask again, once.
            response = await _client.GetAsync(key, _leaseFlags, CancellationToken.None).ConfigureAwait(false);
            lookup = await InterpretAsync(key, response, acquireLease: true, CancellationToken.None).ConfigureAwait(false);
        }

        return lookup.Lease.IsGranted && Volatile.Read(ref _tagsSeen) ? Stamped(lookup, await ReadStampOrZeroAsync().ConfigureAwait(false)) : lookup;
    }

    /// <summary>
    /// The tag stamp of a granted lease, read once the lease is granted (on the tags' node), before the load begins: one
    /// more round trip per miss, paid only by a store that has stored a tagged entry (its first tagged fill, unstamped, is
    /// refused and loaded again). A clock that cannot be read gives 0, which fences every tagged fill of the lease
    /// (untagged fills are unaffected).
    /// </summary>
    private async Task<long> ReadStampOrZeroAsync()
    {
        try
        {
            return await _tags.ReadStampAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (MemcachedException)
        {
            return 0;
        }
    }

    private static CacheLookup<TValue> Stamped(CacheLookup<TValue> lookup, long stamp) =>
        lookup.Lease.IsGranted ? lookup with { Lease = lookup.Lease with { TagStamp = stamp } } : lookup;

    private async Task<CacheLookup<TValue>[]> LookupManyAsync(string[] keys, bool acquireLeases, CancellationToken cancellationToken)
    {
        var results = await _client.GetManyAsync(keys, acquireLeases ? _leaseFlags : "v f c", cancellationToken).ConfigureAwait(false);
        if (results.Length > 0 && results.All(r => r.Error is not null))
        {
            throw results[0].Error!;
        }

        var lookups = new CacheLookup<TValue>[keys.Length];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = results[i].Response is { } response
                ? await InterpretAsync(keys[i], response, acquireLeases, cancellationToken).ConfigureAwait(false)
                : CacheLookup<TValue>.Unavailable;
        }

        if (Volatile.Read(ref _tagsSeen) && lookups.Any(l => l.Lease.IsGranted))
        {
            var stamp = await ReadStampOrZeroAsync().ConfigureAwait(false);
            for (var i = 0; i < lookups.Length; i++)
            {
                lookups[i] = Stamped(lookups[i], stamp);
            }
        }

        return lookups;
    }

    /// <summary>Gives back the lease a lookup grants after its caller stopped waiting (a cancelled or timed-out read).</summary>
    private async Task GiveBackAsync(string key, Task<CacheLookup<TValue>> lookup)
    {
        try
        {
            var result = await lookup.ConfigureAwait(false);
            if (result.Lease.IsGranted)
            {
                await ReleaseAsync(key, result.Lease, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MemcachedException or ArgumentException)
        {
            // No lease was granted, or the node cannot answer the release: the placeholder then expires after the lease time.
        }
    }

    private async Task GiveBackAsync(string[] keys, Task<CacheLookup<TValue>[]> lookups)
    {
        try
        {
            var results = await lookups.ConfigureAwait(false);
            await Task.WhenAll(results.Select((r, i) => GiveBackAsync(keys[i], Task.FromResult(r)))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MemcachedException or ArgumentException)
        {
            // No lease was granted.
        }
    }

    private static uint Flags(CacheValue<TValue> value) => value.Exists ? 0 : Envelope.NotFoundFlag;

    /// <summary>
    /// Absolute entries live for their expiration plus the fail-safe retention (the envelope's deadline tells Hit from Stale);
    /// sliding entries live for the sliding window (capped by the absolute expiration), renewed by each hit, and are not
    /// kept for fail-safe.
    /// </summary>
    private static TimeSpan? PhysicalTtl(StoreEntryOptions options) => options.SlidingExpiration is { } sliding
        ? (options.AbsoluteExpiration is { } absolute && absolute < sliding ? absolute : sliding)
        : options.PhysicalTimeToLive();

    /// <summary>The envelope (its size is checked when the store command is built, against the encoded key), with the entry's tags and their stamp.</summary>
    private byte[] Encode(string key, CacheValue<TValue> value, StoreEntryOptions options, long tagStamp)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var deadline = options.AbsoluteExpiration is { } absolute ? now + (long)absolute.TotalMilliseconds : 0;
        var sliding = options.SlidingExpiration is { } s ? (long)s.TotalMilliseconds : 0;
        return Envelope.Write(value, _descriptor.Serializer, deadline, sliding, tagStamp, options.Tags);
    }

    /// <summary>
    /// The hit of a key whose tags this store remembers, in one write to the entry's node: with its remembered tags' versions
    /// when that node holds them, else with the copies of the versions that node holds (docs/architecture.md, "The tagged
    /// hit on several memcached nodes"). Both are sent after this read began, so they reflect every tag invalidation that
    /// returned before it (docs/architecture.md, "The tagged hit"); an entry that carries other tags than remembered, or
    /// whose copies are missing or pending, has its versions read in a second round trip.
    /// </summary>
    private async ValueTask<CacheLookup<TValue>> GetTaggedAsync(string key, string[] guess, CancellationToken cancellationToken)
    {
        var onTagsNode = _tags.OnNodeOf(key);
        var commands = onTagsNode ? _tags.VersionReads(guess, leading: 1) : _tags.CopyReads(guess, leading: 1);
        commands[0] = _client.Command("mg", key, "v f c");
        var node = _client.NodeFor(commands[0].Key);
        var replies = await node.ExecuteAsync(commands, quiet: false, cancellationToken).ConfigureAwait(false);
        var reading = new TagReading(guess, replies[1..], onTagsNode ? null : node);
        return await InterpretAsync(key, replies[0], acquireLease: false, cancellationToken, reading).ConfigureAwait(false);
    }

    /// <summary>Remembers the tags a tagged entry of <paramref name="key"/> carries (bounded: at <see cref="TagGuessCapacity"/> keys it starts over).</summary>
    private void RememberTags(string key, List<string> tags)
    {
        if (_tagGuesses.TryGetValue(key, out var known) && known.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tags)))
        {
            return;
        }

        if (_tagGuesses.Count >= TagGuessCapacity)
        {
            _tagGuesses.Clear();
        }

        _tagGuesses[key] = [.. tags];
    }

    private async ValueTask<CacheLookup<TValue>> InterpretAsync(
        string key,
        MetaResponse response,
        bool acquireLease,
        CancellationToken cancellationToken,
        TagReading? remembered = null)
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
        long deadline, sliding, stamp;
        var tags = new List<string>();
        try
        {
            (value, deadline, sliding, stamp) = Envelope.Read(response.Value, _descriptor.Serializer, tags);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The observer logs it (once) and counts it.
            _descriptor.Observer?.OnCorruptEntry(key, ex);
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

        if (tags.Count == 0 && remembered is not null)
        {
            _tagGuesses.TryRemove(key, out _);
        }

        if (tags.Count > 0 && !await TagsValidAsync(key, response.Cas, stamp, tags, remembered, cancellationToken).ConfigureAwait(false))
        {
            return CacheLookup<TValue>.Miss;
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (deadline == 0 || now < deadline)
        {
            if (sliding > 0)
            {
                await TouchAsync(key, deadline == 0 ? sliding : Math.Min(sliding, deadline - now), cancellationToken).ConfigureAwait(false);
            }

            // For a near cache: the remaining life (half the window of a sliding entry, just renewed) and the tags.
            var freshMs = sliding > 0 ? sliding / 2 : long.MaxValue;
            if (deadline > 0)
            {
                freshMs = Math.Min(freshMs, deadline - now);
            }

            return CacheLookup<TValue>.Hit(
                value,
                freshMs == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(freshMs),
                tags.Count > 0 ? tags : []);
        }

        // Past its logical expiry, kept for stale serving: one client at a time may refresh it.
        var expiredFor = TimeSpan.FromMilliseconds(now - deadline);
        return acquireLease
            ? await ClaimRefreshAsync(key, response.Cas, value, expiredFor, cancellationToken).ConfigureAwait(false)
            : CacheLookup<TValue>.Stale(value, CacheLease.None, expiredFor);
    }

    /// <summary>
    /// Checks a tagged entry's versions (a second round trip, to the tags' node). Invalidated: the entry is deleted (only
    /// this version of it) and read as a miss. Versions that cannot be read: a miss too (fail closed), the entry kept.
    /// </summary>
    private async ValueTask<bool> TagsValidAsync(string key, ulong cas, long stamp, List<string> tags, TagReading? remembered, CancellationToken cancellationToken)
    {
        try
        {
            bool valid;
            var check = TagCheck.Unknown;
            if (remembered is { } read && read.Tags.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tags)))
            {
                // Read together with the entry: the versions (or the copies) of exactly the tags it carries.
                check = MemcachedTags.Judge(read.Replies, stamp);
                if (check == TagCheck.Unknown && read.CopiesOn is { } node)
                {
                    // A copy missing or pending is never trusted: the versions are asked, and the missing copies made.
                    _tags.MakeMissingCopies(node, tags, read.Replies);
                }
                else if (check == TagCheck.Unknown)
                {
                    // A version missing or unreadable: fail closed.
                    check = TagCheck.Invalidated;
                }
            }

            if (check != TagCheck.Unknown)
            {
                valid = check == TagCheck.Valid;
            }
            else
            {
                RememberTags(key, tags);
                valid = await _tags.AreValidAsync(stamp, tags, cancellationToken).ConfigureAwait(false);
            }

            if (valid)
            {
                return true;
            }

            await _client.DeleteAsync(key, string.Create(CultureInfo.InvariantCulture, $"C{cas}"), cancellationToken).ConfigureAwait(false);
        }
        catch (MemcachedException)
        {
            // Unknown versions: not served.
        }

        return false;
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

    /// <summary>Gives a lease back. Sent whatever <paramref name="cancellationToken"/> says (it only stops the wait).</summary>
    private async ValueTask ReleaseAsync(string key, CacheLease lease, CancellationToken cancellationToken)
    {
        if (lease.State == RefreshLease)
        {
            // The stale value stays (fail-safe); another client may refresh it now.
            await _client.ExecuteOnNodeOfAsync(key, [RefreshClaim("md", key, string.Empty)], CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (lease.State != PlaceholderLease)
        {
            return;
        }

        // Deletes the placeholder only if it is still ours (same CAS).
        await _client.DeleteAsync(key, string.Create(CultureInfo.InvariantCulture, $"C{(ulong)lease.Token}"), CancellationToken.None)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
