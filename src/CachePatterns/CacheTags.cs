using System.Runtime.CompilerServices;

namespace CachePatterns;

/// <summary>
/// The rules for tags (<see cref="CacheEntryOptions.Tags"/>, <see cref="ICache.InvalidateTagAsync"/>): what a tag may
/// be, and the tags reserved for the library.
/// </summary>
/// <remarks>
/// A tag is scoped to its named cache: <see cref="ICache.InvalidateTagAsync"/> on cache <c>default</c> makes every entry
/// of that cache carrying the tag a miss, whoever stored it (a strategy, the ad-hoc <see cref="ICache"/>), in every
/// process sharing the provider. See docs/architecture.md, "Tags".
/// </remarks>
public static class CacheTags
{
    /// <summary>
    /// The wildcard tag, <c>"*"</c>: reserved (an entry may not carry it, and <see cref="ICache.InvalidateTagAsync"/>
    /// refuses it). Microsoft's <c>HybridCache.RemoveByTagAsync("*")</c> means "everything"; the HybridCache adapter
    /// implements that meaning on top of tags.
    /// </summary>
    public const string Wildcard = "*";

    /// <summary>The longest tag, in UTF-16 characters (256).</summary>
    public const int MaxLength = 256;

    /// <summary>
    /// Throws the <see cref="ArgumentException"/> the cache would throw for <paramref name="tag"/>: <see langword="null"/>,
    /// empty or white space only, longer than <see cref="MaxLength"/>, containing a control character, or the reserved
    /// <see cref="Wildcard"/>.
    /// </summary>
    /// <param name="tag">The tag.</param>
    /// <param name="paramName">The name of the parameter that held it.</param>
    /// <exception cref="ArgumentException">The tag is not allowed; the message names it and why.</exception>
    public static void Validate(string? tag, [CallerArgumentExpression(nameof(tag))] string? paramName = null)
    {
        if (tag is null)
        {
            throw new ArgumentNullException(paramName, "A cache tag must not be null.");
        }

        if (string.IsNullOrWhiteSpace(tag))
        {
            throw new ArgumentException($"A cache tag must not be empty or white space, but was '{tag}'.", paramName);
        }

        if (tag.Length > MaxLength)
        {
            throw new ArgumentException($"A cache tag must be at most {MaxLength} characters, but '{tag[..32]}…' has {tag.Length}.", paramName);
        }

        if (tag == Wildcard)
        {
            throw new ArgumentException($"The cache tag '{Wildcard}' is reserved (HybridCache's \"everything\"); use another tag.", paramName);
        }

        foreach (var c in tag)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"A cache tag must not contain control characters, but '{tag.Replace(c, '?')}' has U+{(int)c:X4}.", paramName);
            }
        }
    }

    /// <summary>Validates every tag of a set and returns it without duplicates (<see langword="null"/> for none).</summary>
    internal static IReadOnlyCollection<string>? Normalize(IEnumerable<string>? tags, string paramName)
    {
        if (tags is null)
        {
            return null;
        }

        HashSet<string>? set = null;
        foreach (var tag in tags)
        {
            Validate(tag, paramName);
            (set ??= new HashSet<string>(StringComparer.Ordinal)).Add(tag);
        }

        return set is null ? null : [.. set];
    }
}
