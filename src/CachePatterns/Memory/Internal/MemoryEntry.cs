using CachePatterns.Providers;

namespace CachePatterns.Memory.Internal;

/// <summary>One stored entry. Times are <see cref="TimeProvider.GetTimestamp"/> values.</summary>
internal sealed class MemoryEntry<TValue>
{
    private long _expiresAt;

    public MemoryEntry(CacheValue<TValue> value, byte[]? payload, long size, long expiresAt, long absoluteDeadline, long slidingTicks, long retentionTicks, MemoryTagVersion[]? tags = null, long tagStamp = 0)
    {
        Tags = tags;
        TagStamp = tagStamp;
        Value = value;
        Payload = payload;
        Size = size;
        _expiresAt = expiresAt;
        AbsoluteDeadline = absoluteDeadline;
        SlidingTicks = slidingTicks;
        RetentionTicks = retentionTicks;
    }

    /// <summary>The value when values are stored as objects.</summary>
    public CacheValue<TValue> Value { get; }

    /// <summary>The serialized value when values are stored serialized (null for a negative entry).</summary>
    public byte[]? Payload { get; }

    public long Size { get; }

    /// <summary>The entry's tags (null for none); the entry is a miss once one was invalidated after <see cref="TagStamp"/>.</summary>
    public MemoryTagVersion[]? Tags { get; }

    public long TagStamp { get; }

    /// <summary>Whether no tag of the entry was invalidated after its stamp (always for an untagged entry).</summary>
    public bool TagsValid => Tags is null || MemoryTagVersions.AreValid(Tags, TagStamp);

    public long AbsoluteDeadline { get; }

    public long SlidingTicks { get; }

    public long RetentionTicks { get; }

    public long ExpiresAt => Volatile.Read(ref _expiresAt);

    public long RetainUntil => Saturating.Add(ExpiresAt, RetentionTicks);

    /// <summary>Renews the sliding window; racing readers write nearly equal values, so a plain write is enough.</summary>
    public void Touch(long now)
    {
        if (SlidingTicks != 0)
        {
            Volatile.Write(ref _expiresAt, Math.Min(Saturating.Add(now, SlidingTicks), AbsoluteDeadline));
        }
    }
}
