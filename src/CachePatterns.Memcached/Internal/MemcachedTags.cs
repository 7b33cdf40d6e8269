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
/// </remarks>
internal sealed class MemcachedTags(MemcachedClient client, TimeProvider time)
{
    /// <summary>The routing key of every tag item: they all live on the node that owns it.</summary>
    private const string Home = "~tags";

    /// <summary>How many times a CAS-fenced raise of a version is retried.</summary>
    private const int MaxCasAttempts = 16;

    private readonly byte[] _clockKey = client.CompanionKey(Home, "tagclock");

    private byte[] VersionKey(string tag) => client.CompanionKey(Home + ":" + tag, "tag");

    private MetaCommand ReadClockCommand(long delta) =>
        new("ma", _clockKey, string.Create(CultureInfo.InvariantCulture, $"N0 J{time.GetUtcNow().ToUnixTimeMilliseconds()} D{delta} v"));

    /// <summary>Reads the clock (creating it when missing): the stamp of a lease or a set.</summary>
    public async Task<long> ReadStampAsync(CancellationToken cancellationToken)
    {
        var replies = await client.ExecuteOnNodeOfAsync(Home, [ReadClockCommand(0)], cancellationToken).ConfigureAwait(false);
        return Number(replies[0]);
    }

    public async Task InvalidateAsync(string tag, CancellationToken cancellationToken)
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
                return;
            }
            else
            {
                var ttl = current.Ttl < 0 ? "T0" : string.Create(CultureInfo.InvariantCulture, $"T{Math.Max(1, current.Ttl)}");
                store = new MetaCommand("ms", key, string.Create(CultureInfo.InvariantCulture, $"{ttl} C{current.Cas}"), Encode(version));
            }

            var raised = await client.ExecuteOnNodeOfAsync(Home, [store, new MetaCommand("mg", key, "v c t")], cancellationToken).ConfigureAwait(false);
            if (raised[0].Status == MetaStatus.Stored)
            {
                return;
            }

            current = raised[1];
        }

        // The version kept changing: delete it, which fails every entry of the tag closed.
        await client.ExecuteOnNodeOfAsync(Home, [new MetaCommand("md", key, string.Empty)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether no tag was invalidated after <paramref name="stamp"/> (every version exists and is at most it). One write to the tags' node.</summary>
    public async Task<bool> AreValidAsync(long stamp, IReadOnlyList<string> tags, CancellationToken cancellationToken) =>
        AreValid(await ReadVersionsAsync(tags, cancellationToken).ConfigureAwait(false), stamp);

    /// <summary>Reads the versions of <paramref name="tags"/>, in their order: one write to the tags' node.</summary>
    public Task<MetaResponse[]> ReadVersionsAsync(IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var commands = new MetaCommand[tags.Count];
        for (var i = 0; i < commands.Length; i++)
        {
            commands[i] = new MetaCommand("mg", VersionKey(tags[i]), "v");
        }

        return client.ExecuteOnNodeOfAsync(Home, commands, cancellationToken);
    }

    /// <summary>Whether an entry stamped <paramref name="stamp"/> is valid under the versions read (<see cref="ReadVersionsAsync"/>).</summary>
    public static bool AreValid(MetaResponse[] versions, long stamp) => versions.All(r => r.Status == MetaStatus.Value && Number(r) <= stamp);

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

    private static long Number(MetaResponse reply) =>
        reply.Status == MetaStatus.Value && reply.Value is { } v && long.TryParse(Encoding.ASCII.GetString(v), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new MemcachedException($"A tag clock or version reply could not be read ({reply.Status}).");
}
