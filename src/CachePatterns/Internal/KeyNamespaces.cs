namespace CachePatterns.Internal;

/// <summary>
/// The key prefixes claimed in one named cache: strategies, the ad-hoc <see cref="ICache"/> and <c>IDistributedCache</c>.
/// Two owners may not claim prefixes of which one starts with the other: <c>""</c> and <c>"Product:"</c>, or <c>"a:"</c> and
/// <c>"a:b:"</c>, let one owner's key (<c>"Product:42"</c>, <c>"b:1"</c>) land on the other's entry on a remote provider.
/// </summary>
internal sealed class KeyNamespaces(string cacheName)
{
    private readonly Lock _gate = new();
    private readonly List<(string Prefix, string Owner)> _claimed = [];

    /// <summary>Claims <paramref name="prefix"/> for <paramref name="owner"/>; claiming the same pair again is a no-op.</summary>
    /// <exception cref="InvalidOperationException">Another owner's prefix overlaps it.</exception>
    public void Claim(string prefix, string owner)
    {
        lock (_gate)
        {
            foreach (var (claimed, holder) in _claimed)
            {
                if (holder == owner && claimed == prefix)
                {
                    return;
                }

                if (claimed.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(claimed, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"Cache '{cacheName}': {owner} would use the key prefix '{prefix}', which overlaps the prefix '{claimed}' of {holder}; " +
                        "their keys could overwrite each other's entries. Give one of them another prefix (CacheStrategyOptions.KeyPrefix, DistributedCacheOptions.KeyPrefix).");
                }
            }

            _claimed.Add((prefix, owner));
        }
    }
}
