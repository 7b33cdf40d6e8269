using System.Collections.Concurrent;

namespace CachePatterns.Memory.Internal;

/// <summary>
/// The tag versions of one in-memory provider (one named cache), shared by its stores. A logical clock counts tag
/// invalidations; an invalidation stamps the tag with the clock's new value, and an entry is valid while every one of
/// its tags was last invalidated at or before the entry's stamp (the clock when its lease was granted, or when it was
/// set). docs/architecture.md, "Tags".
/// </summary>
internal sealed class MemoryTagVersions
{
    private readonly ConcurrentDictionary<string, MemoryTagVersion> _tags = new(StringComparer.Ordinal);
    private long _clock;

    /// <summary>Gets how many tags have a version (the near cache bounds it).</summary>
    public int Count => _tags.Count;

    /// <summary>
    /// Forgets every version; the clock goes on. Only safe once nothing can still be stored or served against the versions
    /// forgotten: the near cache clears them right before it drops every copy and revokes every lease.
    /// </summary>
    public void Clear() => _tags.Clear();

    /// <summary>The stamp of a lease or a set: the clock now.</summary>
    public long Stamp() => Volatile.Read(ref _clock);

    public void Invalidate(string tag)
    {
        var version = _tags.GetOrAdd(tag, static _ => new MemoryTagVersion());
        version.RaiseTo(Interlocked.Increment(ref _clock));
    }

    /// <summary>The version objects of an entry's tags, resolved once when it is stored so a hit reads fields, not a dictionary.</summary>
    public MemoryTagVersion[]? Resolve(IReadOnlyCollection<string>? tags)
    {
        if (tags is not { Count: > 0 })
        {
            return null;
        }

        var resolved = new MemoryTagVersion[tags.Count];
        var i = 0;
        foreach (var tag in tags)
        {
            resolved[i++] = _tags.GetOrAdd(tag, static _ => new MemoryTagVersion());
        }

        return resolved;
    }

    /// <summary>Whether none of <paramref name="tags"/> was invalidated after <paramref name="stamp"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool AreValid(MemoryTagVersion[] tags, long stamp)
    {
        foreach (var tag in tags)
        {
            if (tag.Invalidated > stamp)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>When one tag was last invalidated, on its provider's clock (0: never).</summary>
internal sealed class MemoryTagVersion
{
    private long _invalidated;

    public long Invalidated => Volatile.Read(ref _invalidated);

    /// <summary>Raises the version; two racing invalidations leave the later one.</summary>
    public void RaiseTo(long version)
    {
        var current = Volatile.Read(ref _invalidated);
        while (current < version)
        {
            var seen = Interlocked.CompareExchange(ref _invalidated, version, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
