namespace CachePatterns.Strategies;

/// <summary>
/// The tags a strategy derives from its entity (<see cref="CachePatternsBuilder.DeriveTags{TKey, TValue}"/>): the tags of
/// the cached queries a write of the entity outdates. Registered keyed by the strategy's options name.
/// </summary>
internal sealed class EntityTags<TKey, TValue>(Func<TValue, IEnumerable<string>> tagsOf)
    where TKey : notnull
{
    /// <summary>Validated tags of one value, without duplicates.</summary>
    public IReadOnlyCollection<string> Of(TValue value) =>
        CacheTags.Normalize(tagsOf(value), "tags") ?? [];
}
