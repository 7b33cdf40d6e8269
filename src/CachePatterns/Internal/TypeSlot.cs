namespace CachePatterns.Internal;

/// <summary>A small dense number per value type, so per-type lookups are an array index instead of a dictionary.</summary>
internal static class TypeSlot
{
    private static int s_next = -1;

    public static int Next() => Interlocked.Increment(ref s_next);
}

/// <summary>The slot of <typeparamref name="T"/>.</summary>
internal static class TypeSlot<T>
{
    public static readonly int Index = TypeSlot.Next();
}
