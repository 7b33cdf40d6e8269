namespace CachePatterns;

/// <summary>
/// Tells code running inside a loader whether it runs to fill the cache. The strategies set it around the loader
/// (or factory) call of a cache miss, for one key and for a bulk load; it flows with the async context.
/// </summary>
/// <remarks>
/// A read/write router uses it to serve a fill from the writer or from a replica that has replayed the latest write,
/// never from a lagging replica whose older row would then be cached (see docs/routing.md).
/// </remarks>
public static class CacheFillContext
{
    private static readonly AsyncLocal<bool> Active = new();

    /// <summary>Gets a value indicating whether the current code runs inside a cache fill's loader call.</summary>
    public static bool IsActive => Active.Value;

    /// <summary>Marks the current async context as a cache fill until the returned scope is disposed.</summary>
    internal static FillScope Enter()
    {
        var previous = Active.Value;
        Active.Value = true;
        return new FillScope(previous);
    }

    /// <summary>Restores the marker when the loader call returns.</summary>
    internal readonly struct FillScope(bool previous) : IDisposable
    {
        public void Dispose() => Active.Value = previous;
    }
}
