using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

/// <summary>
/// The tags a write of the entity invalidates (<see cref="CachePatternsBuilder.DeriveTags{TKey, TValue}"/>): those of the
/// previous value (read before the database write) and of the new one, invalidated after the database write.
/// </summary>
internal sealed partial class CacheStrategy<TKey, TValue>
{
    /// <summary>
    /// Before the database write: the tags the write outdates — the new value's (checked now, so a bad tag fails the write
    /// before the database has it) and the previous value's: the cached entry's, else the loader's row. Null when the
    /// strategy derives no tags. A loader failure is thrown: the write cannot know which cached queries it outdates.
    /// </summary>
    private async ValueTask<HashSet<string>?> TagsToInvalidateAsync(TKey key, bool hasNewValue, TValue? newValue, CancellationToken cancellationToken)
    {
        if (EntityTags is not { } entityTags)
        {
            return null;
        }

        var tags = new HashSet<string>(hasNewValue ? entityTags.Of(newValue!) : [], StringComparer.Ordinal);
        CacheLookup<TValue> cached;
        try
        {
            cached = await _store.GetAsync(key, acquireLease: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get", ex);
            cached = CacheLookup<TValue>.Unavailable;
        }

        if (cached.Status is CacheLookupStatus.Hit or CacheLookupStatus.Stale or CacheLookupStatus.StaleLeaseHeldElsewhere)
        {
            if (cached.Value.Exists)
            {
                tags.UnionWith(entityTags.Of(cached.Value.Value!));
            }

            return tags;
        }

        if (_loader is not null)
        {
            var row = await _loader.LoadAsync(key, cancellationToken).ConfigureAwait(false);
            if (row.Found)
            {
                tags.UnionWith(entityTags.Of(row.Value!));
            }
        }

        return tags;
    }

    /// <summary>
    /// After the database write: invalidates <paramref name="tags"/>. A provider failure is remembered by the named cache's
    /// tag ledger (replayed; the cache is not read by this process until it is), so nothing is thrown for it; anything
    /// else (a provider that stopped supporting tags) is logged and counted.
    /// </summary>
    private async ValueTask InvalidateTagsQuietlyAsync(HashSet<string>? tags)
    {
        if (tags is null || TagInvalidator is null)
        {
            return;
        }

        foreach (var tag in tags)
        {
            try
            {
                await TagInvalidator.InvalidateTagAsync(tag, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _instruments.ProviderError("invalidate-tag", ex);
            }
        }
    }
}
