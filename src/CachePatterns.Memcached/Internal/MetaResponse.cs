namespace CachePatterns.Memcached.Internal;

/// <summary>The return code of a meta command.</summary>
internal enum MetaStatus
{
    /// <summary><c>VA</c>: a value follows.</summary>
    Value,

    /// <summary><c>HD</c>: success without a value.</summary>
    Stored,

    /// <summary><c>EN</c>: miss.</summary>
    Miss,

    /// <summary><c>NF</c>: not found.</summary>
    NotFound,

    /// <summary><c>NS</c>: not stored.</summary>
    NotStored,

    /// <summary><c>EX</c>: the CAS did not match.</summary>
    Exists,

    /// <summary><c>MN</c>: end of a batch.</summary>
    NoOp,
}

/// <summary>One reply of a meta command, with the flags this client reads.</summary>
internal sealed class MetaResponse
{
    public MetaStatus Status { get; init; }

    public byte[]? Value { get; init; }

    public ulong Cas { get; init; }

    public uint ClientFlags { get; init; }

    /// <summary>Gets the remaining time to live in seconds; -1 for none.</summary>
    public long Ttl { get; init; } = -1;

    /// <summary>Gets a value indicating whether this client won the right to fill (<c>W</c>).</summary>
    public bool Won { get; init; }

    /// <summary>Gets a value indicating whether the item is marked stale (<c>X</c>).</summary>
    public bool IsStale { get; init; }

    /// <summary>Gets a value indicating whether another client already holds the fill lease (<c>Z</c>).</summary>
    public bool LeaseHeldElsewhere { get; init; }

    public uint? Opaque { get; init; }

    /// <summary>Gets the reply of a quiet command the server suppressed (a miss of <c>mg q</c>).</summary>
    public static MetaResponse SuppressedMiss { get; } = new() { Status = MetaStatus.Miss };
}
