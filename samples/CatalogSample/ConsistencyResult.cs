namespace CatalogSample;

/// <summary>The outcome of comparing every product read through the cache with its database row.</summary>
public sealed record ConsistencyResult(int Checked, int Matching, long ServedFromCache, IReadOnlyList<string> Mismatches)
{
    public bool IsConsistent => Checked > 0 && Matching == Checked;
}
