namespace CachePatterns.Providers;

/// <summary>
/// The right to fill one key, granted on a miss. A fill that presents it is stored only if no
/// write or invalidation of the key happened since the lease was granted (a fenced fill).
/// </summary>
/// <param name="Token">The provider's fencing token (a version, a CAS value or a random number).</param>
/// <param name="State">Provider state that travels with the lease (for example the in-memory fence record).</param>
public readonly record struct CacheLease(long Token, object? State)
{
    /// <summary>Gets a value indicating whether a lease was granted.</summary>
    public bool IsGranted => Token != 0 || State is not null;

    /// <summary>
    /// Gets the provider's tag stamp taken when the lease was granted (when the load began): a fill whose tags were
    /// invalidated after this stamp is refused or stored invalid. Zero when the provider keeps no tags.
    /// </summary>
    public long TagStamp { get; init; }

    /// <summary>Gets the absent lease.</summary>
    public static CacheLease None => default;
}
