namespace CachePatterns.Tests.Support;

/// <summary>
/// The database behind a <see cref="ConsistencyChecker"/> round: loader and writer, plus the history the checker needs
/// to judge "read-after-completed-write". Every commit of a key (write or delete) gets a sequence number in commit
/// order; values written are unique, so a value read back names its commit. Writers publish the commit of a write
/// they have finished (<see cref="Complete"/>); readers compare what they read with the floor published before they began.
/// Implemented in memory (<c>FakeDatabase</c>) and shared between OS processes (<c>SharedDatabase</c>).
/// </summary>
public interface ICheckedDatabase : ICacheLoader<int, string>, ICacheWriter<int, string>
{
    /// <summary>Gets the number of loads (single and bulk) this instance served.</summary>
    int Loads { get; }

    /// <summary>Sets a key's initial value (commit 0).</summary>
    void Seed(int key, string value);

    /// <summary>Reads the current row, without counting a load.</summary>
    bool TryRead(int key, out string? value);

    /// <summary>Publishes that a write (or delete) with this commit has finished, cache step included.</summary>
    void Complete(int key, long commit);

    /// <summary>Gets the newest commit of a write of the key that has finished (0 if none).</summary>
    long Floor(int key);

    /// <summary>
    /// Whether <paramref name="value"/> (<see langword="null"/>: the key not found) may be returned by a read that began
    /// when the floor was <paramref name="floor"/>: a value committed at or after the floor, or "not found" when a delete
    /// committed at or after it.
    /// </summary>
    bool IsAtLeast(int key, string? value, long floor);

    /// <summary>
    /// When the write with this commit was published as finished (<see cref="Complete"/>), on <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>
    /// (CLOCK_MONOTONIC on Linux, so comparable between processes of one machine); <see langword="null"/> when not recorded.
    /// The checker uses it to report how long after a finished write a read still returned an older row (the window).
    /// </summary>
    long? CompletedAt(long commit) => null;
}

/// <summary>Where a database records the commit of the write or delete the current flow made (set per writer).</summary>
public static class CommitReceipt
{
    private static readonly AsyncLocal<Receipt?> Current = new();

    /// <summary>Gets a receipt the databases fill with each commit made by this flow and its callees.</summary>
    public static Receipt Begin() => Current.Value = new Receipt();

    /// <summary>Records a commit made by this flow.</summary>
    public static void Record(long commit)
    {
        if (Current.Value is { } receipt)
        {
            receipt.Value = commit;
        }
    }

    /// <summary>
    /// Records that the cache step of this flow's write failed and was deferred to the invalidation ledger (the library's
    /// <c>cachepatterns.invalidations.deferred</c> counter, heard by a <c>MeterListener</c> on the writer's flow).
    /// </summary>
    public static void RecordCacheStepDeferred()
    {
        if (Current.Value is { } receipt)
        {
            receipt.CacheStepDeferred = true;
        }
    }

    /// <summary>What one write of a writer flow left behind.</summary>
    public sealed class Receipt
    {
        /// <summary>Gets or sets the commit of the write (0 before it committed).</summary>
        public long Value { get; set; }

        /// <summary>
        /// Gets or sets a value indicating whether the write's cache step could not reach the cache and was deferred: by
        /// design (docs/architecture.md, read-after-completed-write) other processes may read the older entry until the
        /// deferred invalidation is replayed, so such a write publishes no floor.
        /// </summary>
        public bool CacheStepDeferred { get; set; }
    }
}
