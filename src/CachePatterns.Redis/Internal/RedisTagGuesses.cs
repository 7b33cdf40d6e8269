using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using CachePatterns.Providers;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// One store's memory of the tags its recently read tagged keys carried, so that a tagged hit sends the entry's
/// <c>GET</c> and an <c>MGET</c> of its tag versions in one batch (one round trip, no script: docs/architecture.md, "Tags",
/// "The tagged hit"). It is only a guess: the read compares it with the tags the entry carries and, when they differ, reads
/// the right versions in a second round trip. Bounded: at <see cref="Capacity"/> keys it starts over (the keys read next
/// take the script once, or on a Cluster a second round trip, and are remembered again).
/// </summary>
internal sealed class RedisTagGuesses(RedisTags tags)
{
    /// <summary>Keys remembered per store, at most.</summary>
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, KeyTagGuess> _byKey = new(StringComparer.Ordinal);

    /// <summary>The last guess made: keys with the same tags share it (a query cache's pages usually carry one tag set).</summary>
    private TagGuess? _last;

    /// <summary>Gets how many keys are remembered (tests).</summary>
    public int Count => _byKey.Count;

    public bool TryGet(string valueKey, [NotNullWhen(true)] out KeyTagGuess? guess) => _byKey.TryGetValue(valueKey, out guess);

    /// <summary>
    /// Remembers the tags of a tagged entry just read (its header says tagged); forgets the key if the section is unreadable.
    /// On a Cluster (<paramref name="cluster"/> given) its hits will read the copies of the versions in the entry's bucket
    /// (<see cref="RedisTags.CopyKeys"/>), on a single server the entry and the versions in one <c>MGET</c>.
    /// </summary>
    public void Remember(string valueKey, ReadOnlySpan<byte> stored, IConnectionMultiplexer? cluster)
    {
        if (!TagGuess.TryGetTagList(stored, out _, out var list))
        {
            _byKey.TryRemove(valueKey, out _);
            return;
        }

        if (_byKey.TryGetValue(valueKey, out var known) && known.Tags.Matches(list))
        {
            return;
        }

        var guess = Volatile.Read(ref _last);
        if (guess is null || !guess.Matches(list))
        {
            guess = TagGuess.Create(list, tags);
            Volatile.Write(ref _last, guess);
        }

        if (_byKey.Count >= Capacity)
        {
            _byKey.Clear();
        }

        _byKey[valueKey] = new KeyTagGuess(guess, cluster is null ? [valueKey, .. guess.VersionKeys] : tags.CopyKeys(cluster, valueKey, guess.Names));
    }

    public void Forget(string valueKey) => _byKey.TryRemove(valueKey, out _);
}

/// <summary>
/// What a store remembers of one key: its tags (<paramref name="Tags"/>, shared by keys with the same tags) and the keys its
/// tagged hit reads in one <c>MGET</c> (<paramref name="ReadKeys"/>): on a single server the value key, then the versions; on
/// a Cluster the copies of the versions in the entry's bucket (<see cref="RedisTags.CopyKeys"/>), read next to its <c>GET</c>.
/// </summary>
internal sealed record KeyTagGuess(TagGuess Tags, RedisKey[] ReadKeys);

/// <summary>A set of tags as an entry stores it (count and tags of its tag section) and the keys of their versions, in that order.</summary>
internal sealed class TagGuess
{
    private readonly byte[] _tagList;

    private TagGuess(byte[] tagList, string[] names, RedisKey[] versionKeys)
    {
        _tagList = tagList;
        Names = names;
        VersionKeys = versionKeys;
    }

    /// <summary>Gets the tags, decoded once (a hit reports them to a near cache without decoding the entry's section again).</summary>
    public string[] Names { get; }

    /// <summary>Gets the version keys to <c>MGET</c>, in the order the entry lists its tags.</summary>
    public RedisKey[] VersionKeys { get; }

    /// <summary>
    /// Reads a tagged entry's stamp and the bytes of its tag list (<c>[u16 count]</c> then the tags, see
    /// <see cref="CacheTagSection"/>); false when the section is truncated.
    /// </summary>
    public static bool TryGetTagList(ReadOnlySpan<byte> stored, out long stamp, out ReadOnlySpan<byte> tagList)
    {
        tagList = default;
        if (!CacheTagSection.TryRead(stored[RedisEnvelope.HeaderLength..], out stamp, null, out var length))
        {
            return false;
        }

        tagList = stored.Slice(RedisEnvelope.HeaderLength + 8, length - 8);
        return true;
    }

    public static TagGuess Create(ReadOnlySpan<byte> tagList, RedisTags tags)
    {
        var names = new List<string>();
        var section = new byte[8 + tagList.Length];
        tagList.CopyTo(section.AsSpan(8));
        CacheTagSection.TryRead(section, out _, names, out _);
        var keys = new RedisKey[names.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = tags.VersionKeyPrefix + names[i];
        }

        return new TagGuess(tagList.ToArray(), [.. names], keys);
    }

    /// <summary>Whether an entry's tag list is this one, tag for tag in the same order (so the versions read match its tags).</summary>
    public bool Matches(ReadOnlySpan<byte> tagList) => tagList.SequenceEqual(_tagList);
}
