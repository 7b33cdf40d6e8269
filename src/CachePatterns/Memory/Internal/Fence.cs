namespace CachePatterns.Memory.Internal;

/// <summary>
/// The fencing state of one key while leases or writes are outstanding. Every field is read and
/// written under the key's stripe lock.
/// </summary>
internal sealed class Fence
{
    /// <summary>Bumped by every invalidation, set, write begin and write completion; a lease holds the version it saw.</summary>
    public long Version { get; set; } = 1;

    public int Leases { get; set; }

    public int Writes { get; set; }

    public bool IsIdle => Leases == 0 && Writes == 0;
}
