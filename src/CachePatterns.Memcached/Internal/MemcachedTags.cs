using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// Tags on memcached (docs/architecture.md and docs/providers.md, "Tags"): a logical clock and one version per tag, the
/// provider's own items (unreachable by application keys) all routed to the node of <c>~tags</c>, so the versions an entry
/// needs are read in one pipelined write to one node.
/// </summary>
/// <remarks>
/// <para><b>Clock</b>: a counter (<c>ma</c>, no expiry) advanced by one per tag invalidation. When it is missing (evicted,
/// the node restarted) it is created at this client's Unix ms, which is above every value it had as long as fewer than
/// one invalidation per millisecond were made since it was last created and client clocks agree within that margin.
/// <b>Version</b>: the clock value of the tag's last invalidation, raised with a CAS loop (two racing invalidations leave
/// the higher one). An invalidation also creates a missing version (a missing version fails every entry, but a store
/// racing the invalidation could otherwise create it at the clock value it read before).</para>
/// <para>An entry's stamp is the clock read when its lease was granted (a fill) or just before it was set. It is valid
/// while every tag's version exists and is at most the stamp; a missing or unreadable version fails closed (a miss). A
/// store of a tagged entry creates missing versions at the clock and extends their lifetime to the entry's.</para>
/// <para><b>Copies</b> (docs/architecture.md, "The tagged hit on several memcached nodes"): each node may hold a copy of a
/// tag's version under one name (<see cref="CopyKey"/>), so a hit of an entry on another node than the tags' reads the
/// entry and the copies in one write to the entry's node. An invalidation raises every existing copy on every node before
/// it returns; a missing or pending copy is never trusted (the versions are asked) and is made in the background.</para>
/// </remarks>
internal sealed class MemcachedTags(MemcachedClient client, TimeProvider time)
{
    /// <summary>The routing key of every tag item: they all live on the node that owns it.</summary>
    private const string Home = "~tags";

    /// <summary>How many times a CAS-fenced raise of a version is retried.</summary>
    private const int MaxCasAttempts = 16;

    /// <summary>How long a copy may stay pending (its maker died between the mark and the confirmation), in seconds.</summary>
    private const int PendingCopySeconds = 10;

    private readonly byte[] _clockKey = client.CompanionKey(Home, "tagclock");

    /// <summary>The copies being made by this process (node, tag), so that concurrent hits start one maker per copy.</summary>
    private readonly ConcurrentDictionary<(MemcachedNode Node, string Tag), byte> _copiesBeingMade = new();

    public byte[] VersionKey(string tag) => client.CompanionKey(Home + ":" + tag, "tag");

    /// <summary>The name of tag <paramref name="tag"/>'s copy: the same on every node, placed by the node it is sent to (not by its hash).</summary>
    public byte[] CopyKey(string tag) => client.CompanionKey(Home + ":" + tag, "tagcopy");

    private MetaCommand ReadClockCommand(long delta) =>
        new("ma", _clockKey, string.Create(CultureInfo.InvariantCulture, $"N0 J{time.GetUtcNow().ToUnixTimeMilliseconds()} D{delta} v"));

    /// <summary>Reads the clock (creating it when missing): the stamp of a lease or a set.</summary>
    public async Task<long> ReadStampAsync(CancellationToken cancellationToken)
    {
        var replies = await client.ExecuteOnNodeOfAsync(Home, [ReadClockCommand(0)], cancellationToken).ConfigureAwait(false);
        return Number(replies[0]);
    }

    /// <summary>
    /// Raises <paramref name="tag"/>'s version on the tags' node, then every existing copy of it on every node of the server
    /// list (in parallel), and returns only then: every copy a hit can trust is at least this invalidation's version. The
    /// copies are raised even when the version was missing (evicted while its copies stayed).
    /// </summary>
    public async Task InvalidateAsync(string tag, CancellationToken cancellationToken)
    {
        var version = await RaiseVersionAsync(tag, cancellationToken).ConfigureAwait(false);
        if (client.Nodes.Count > 1)
        {
            var copy = CopyKey(tag);
            var raises = new List<Task>(client.Nodes.Count);
            foreach (var node in client.Nodes)
            {
                // A node this client has dead is skipped when it will be emptied before this client uses it again (its copies
                // go with it): a node outage must not fail every tag invalidation. The skip is recorded on the node.
                if (!node.TrySkipWhileDead())
                {
                    raises.Add(RaiseCopyAsync(node, copy, version, cancellationToken));
                }
            }

            await Task.WhenAll(raises).ConfigureAwait(false);
        }
    }

    /// <summary>Advances the clock and raises (or creates) the version to it; returns the clock value.</summary>
    private async Task<long> RaiseVersionAsync(string tag, CancellationToken cancellationToken)
    {
        var key = VersionKey(tag);
        var replies = await client.ExecuteOnNodeOfAsync(Home, [ReadClockCommand(1), new MetaCommand("mg", key, "v c t")], cancellationToken).ConfigureAwait(false);
        var version = Number(replies[0]);
        var current = replies[1];
        for (var attempt = 0; attempt < MaxCasAttempts; attempt++)
        {
            MetaCommand store;
            if (current.Status != MetaStatus.Value)
            {
                // Created, not skipped: a store that read the clock before this invalidation may be about to create the
                // version at that older value (reading the clock and creating are two steps here); the add then fails.
                store = new MetaCommand("ms", key, "T0 ME", Encode(version));
            }
            else if (Number(current) >= version)
            {
                return version;
            }
            else
            {
                var ttl = current.Ttl < 0 ? "T0" : string.Create(CultureInfo.InvariantCulture, $"T{Math.Max(1, current.Ttl)}");
                store = new MetaCommand("ms", key, string.Create(CultureInfo.InvariantCulture, $"{ttl} C{current.Cas}"), Encode(version));
            }

            var raised = await client.ExecuteOnNodeOfAsync(Home, [store, new MetaCommand("mg", key, "v c t")], cancellationToken).ConfigureAwait(false);
            if (raised[0].Status == MetaStatus.Stored)
            {
                return version;
            }

            current = raised[1];
        }

        // The version kept changing: delete it, which fails every entry of the tag closed.
        await client.ExecuteOnNodeOfAsync(Home, [new MetaCommand("md", key, string.Empty)], cancellationToken).ConfigureAwait(false);
        return version;
    }

    /// <summary>
    /// Raises the copy <paramref name="copy"/> on <paramref name="node"/> to <paramref name="version"/> if it exists and is
    /// pending or lower (CAS-fenced, keeping its remaining life); a missing copy stays missing. When it keeps changing it is
    /// deleted (its readers then ask the versions).
    /// </summary>
    private static async Task RaiseCopyAsync(MemcachedNode node, byte[] copy, long version, CancellationToken cancellationToken)
    {
        var current = (await node.ExecuteAsync([new MetaCommand("mg", copy, "v c t")], quiet: false, cancellationToken).ConfigureAwait(false))[0];
        for (var attempt = 0; attempt < MaxCasAttempts; attempt++)
        {
            if (current.Status != MetaStatus.Value || (TryNumber(current, out var held) && held >= version))
            {
                return;
            }

            var ttl = current.Ttl < 0 ? "T0" : string.Create(CultureInfo.InvariantCulture, $"T{Math.Max(1, current.Ttl)}");
            var store = new MetaCommand("ms", copy, string.Create(CultureInfo.InvariantCulture, $"{ttl} C{current.Cas}"), Encode(version));
            var raised = await node.ExecuteAsync([store, new MetaCommand("mg", copy, "v c t")], quiet: false, cancellationToken).ConfigureAwait(false);
            if (raised[0].Status == MetaStatus.Stored)
            {
                return;
            }

            current = raised[1];
        }

        await node.ExecuteAsync([new MetaCommand("md", copy, string.Empty)], quiet: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether no tag was invalidated after <paramref name="stamp"/> (every version exists and is at most it). One write to the tags' node.</summary>
    public async Task<bool> AreValidAsync(long stamp, IReadOnlyList<string> tags, CancellationToken cancellationToken) =>
        AreValid(await ReadVersionsAsync(tags, cancellationToken).ConfigureAwait(false), stamp);

    /// <summary>Reads the versions of <paramref name="tags"/>, in their order: one write to the tags' node.</summary>
    public Task<MetaResponse[]> ReadVersionsAsync(IReadOnlyList<string> tags, CancellationToken cancellationToken) =>
        client.ExecuteOnNodeOfAsync(Home, VersionReads(tags, 0), cancellationToken);

    /// <summary>Whether the versions live on the node that <paramref name="key"/> is routed to (one write can read both).</summary>
    public bool OnNodeOf(string key) => client.NodeFor(key) == client.NodeFor(Home);

    /// <summary>The reads of <paramref name="tags"/>' versions, in their order, after <paramref name="leading"/> empty slots.</summary>
    public MetaCommand[] VersionReads(IReadOnlyList<string> tags, int leading)
    {
        var commands = new MetaCommand[leading + tags.Count];
        for (var i = 0; i < tags.Count; i++)
        {
            commands[leading + i] = new MetaCommand("mg", VersionKey(tags[i]), "v");
        }

        return commands;
    }

    /// <summary>Whether an entry stamped <paramref name="stamp"/> is valid under the versions read (<see cref="ReadVersionsAsync"/>).</summary>
    public static bool AreValid(MetaResponse[] versions, long stamp) => Judge(versions, stamp) == TagCheck.Valid;

    /// <summary>
    /// Judges an entry stamped <paramref name="stamp"/> by versions or copies of them: invalidated when one is above the
    /// stamp, unknown when one is missing or not a number (a pending copy), else valid.
    /// </summary>
    public static TagCheck Judge(MetaResponse[] versions, long stamp)
    {
        var check = TagCheck.Valid;
        foreach (var version in versions)
        {
            if (!TryNumber(version, out var value))
            {
                check = TagCheck.Unknown;
            }
            else if (value > stamp)
            {
                return TagCheck.Invalidated;
            }
        }

        return check;
    }

    /// <summary>The reads of <paramref name="tags"/>' copies on the node they are sent to, in their order, after <paramref name="leading"/> empty slots.</summary>
    public MetaCommand[] CopyReads(IReadOnlyList<string> tags, int leading)
    {
        var commands = new MetaCommand[leading + tags.Count];
        for (var i = 0; i < tags.Count; i++)
        {
            commands[leading + i] = new MetaCommand("mg", CopyKey(tags[i]), "v");
        }

        return commands;
    }

    /// <summary>
    /// Makes the copies on <paramref name="node"/> that a hit found missing (<paramref name="read"/>[i] for
    /// <paramref name="tags"/>[i]), in the background: mark the copy pending (only if missing), read the version and its
    /// remaining life on the tags' node, then confirm the copy with that version only if it still holds the mark (its CAS):
    /// an invalidation that raised it in between changed its CAS. A pending copy is left to its maker (or its mark expires).
    /// </summary>
    public void MakeMissingCopies(MemcachedNode node, IReadOnlyList<string> tags, MetaResponse[] read)
    {
        for (var i = 0; i < tags.Count; i++)
        {
            if (read[i].Status != MetaStatus.Value && _copiesBeingMade.TryAdd((node, tags[i]), 0))
            {
                _ = MakeCopyAsync(node, tags[i]);
            }
        }
    }

    private async Task MakeCopyAsync(MemcachedNode node, string tag)
    {
        try
        {
            var copy = CopyKey(tag);
            var mark = "p"u8.ToArray();
            var marked = (await node.ExecuteAsync(
                [new MetaCommand("ms", copy, string.Create(CultureInfo.InvariantCulture, $"T{PendingCopySeconds} ME c"), mark)],
                quiet: false,
                CancellationToken.None).ConfigureAwait(false))[0];
            if (marked.Status != MetaStatus.Stored)
            {
                return; // It exists: made (or being made) by another client.
            }

            var cas = marked.Cas;
            var version = (await client.ExecuteOnNodeOfAsync(Home, [new MetaCommand("mg", VersionKey(tag), "v t")], CancellationToken.None).ConfigureAwait(false))[0];

            // Never longer than the version's remaining life (a second less: memcached's clocks tick once a second).
            var confirm = !TryNumber(version, out var value) || version.Ttl is 0 or 1
                ? new MetaCommand("md", copy, string.Create(CultureInfo.InvariantCulture, $"C{cas}"))
                : new MetaCommand("ms", copy, string.Create(CultureInfo.InvariantCulture, $"T{(version.Ttl < 0 ? 0 : version.Ttl - 1)} C{cas}"), Encode(value));
            await node.ExecuteAsync([confirm], quiet: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MemcachedException or ObjectDisposedException)
        {
            // The node failed, or the provider was disposed meanwhile: the copy stays missing or pending (its mark expires),
            // its readers keep asking the versions.
        }
        finally
        {
            _copiesBeingMade.TryRemove((node, tag), out _);
        }
    }

    /// <summary>
    /// After a tagged entry is stored: creates missing versions at the clock (entries stamped earlier become misses),
    /// extends the others' lifetime to at least <paramref name="lifetime"/> (<see langword="null"/>: no expiry), and says
    /// whether every version is at most <paramref name="stamp"/> (the entry is valid).
    /// </summary>
    public async Task<bool> CheckAfterStoreAsync(long stamp, IReadOnlyCollection<string> tags, TimeSpan? lifetime, CancellationToken cancellationToken)
    {
        var keys = tags.Select(VersionKey).ToArray();
        var reads = new MetaCommand[keys.Length + 1];
        reads[0] = ReadClockCommand(0);
        for (var i = 0; i < keys.Length; i++)
        {
            reads[i + 1] = new MetaCommand("mg", keys[i], "v t");
        }

        var replies = await client.ExecuteOnNodeOfAsync(Home, reads, cancellationToken).ConfigureAwait(false);
        var clock = Number(replies[0]);
        var wanted = client.TtlSeconds(lifetime);
        var fixes = new List<MetaCommand>();
        var valid = true;
        for (var i = 0; i < keys.Length; i++)
        {
            var reply = replies[i + 1];
            if (reply.Status != MetaStatus.Value)
            {
                // Created at the clock (add: an invalidation or another store that created it first wins).
                fixes.Add(new MetaCommand("ms", keys[i], string.Create(CultureInfo.InvariantCulture, $"T{wanted} ME"), Encode(clock)));
                fixes.Add(new MetaCommand("mg", keys[i], "v"));
                continue;
            }

            valid &= Number(reply) <= stamp;
            if (reply.Ttl >= 0 && (wanted == 0 || reply.Ttl < wanted))
            {
                fixes.Add(new MetaCommand("mg", keys[i], string.Create(CultureInfo.InvariantCulture, $"T{wanted}")));
            }
        }

        if (fixes.Count == 0)
        {
            return valid;
        }

        var fixed_ = await client.ExecuteOnNodeOfAsync(Home, [.. fixes], cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < fixes.Count; i++)
        {
            if (fixes[i].Verb == "mg" && fixes[i].Flags == "v")
            {
                valid &= fixed_[i].Status == MetaStatus.Value && Number(fixed_[i]) <= stamp;
            }
        }

        return valid;
    }

    private static byte[] Encode(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static bool TryNumber(MetaResponse reply, out long value)
    {
        value = 0;
        return reply.Status == MetaStatus.Value && reply.Value is { } v && long.TryParse(Encoding.ASCII.GetString(v), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static long Number(MetaResponse reply) =>
        TryNumber(reply, out var n)
            ? n
            : throw new MemcachedException($"A tag clock or version reply could not be read ({reply.Status}).");
}

/// <summary>What an entry's tag versions (or copies of them) say of it.</summary>
internal enum TagCheck
{
    /// <summary>Every version exists and is at most the entry's stamp.</summary>
    Valid,

    /// <summary>A version is above the entry's stamp: a tag was invalidated after its load began.</summary>
    Invalidated,

    /// <summary>A version is missing or unreadable: on the versions themselves fail closed; a copy: ask the versions.</summary>
    Unknown,
}

/// <summary>
/// The tag items a tagged hit read with its entry, for the tags it remembered: the versions themselves, or, when
/// <paramref name="CopiesOn"/> is set, the copies of them that node holds.
/// </summary>
internal readonly record struct TagReading(string[] Tags, MetaResponse[] Replies, MemcachedNode? CopiesOn);
