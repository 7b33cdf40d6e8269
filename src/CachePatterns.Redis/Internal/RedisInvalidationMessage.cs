using System.Globalization;
using CachePatterns.Providers;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The invalidation message on the Redis channel: <c>1|&lt;kind&gt;|&lt;server µs&gt;|&lt;source&gt;|&lt;value&gt;</c>.
/// Kind <c>k</c>: a key, the value being the stored value key (<c>{instance + prefix + key}</c>); <c>t</c>: a tag (the value
/// is the tag; reserved); <c>*</c>: everything; <c>p</c>: a probe a client sends itself to confirm its subscription. The
/// value is last, so it may contain <c>|</c>. A message of another version or kind is ignored (a newer writer).
/// </summary>
internal readonly record struct RedisInvalidationMessage(char Kind, long ServerMicroseconds, string Source, string Value)
{
    public static string Probe(string source, string nonce) => $"1|p|0|{source}|{nonce}";

    public static bool TryParse(string? message, out RedisInvalidationMessage parsed)
    {
        parsed = default;
        if (message is null || message.Length < 6 || message[0] != '1' || message[1] != '|' || message[3] != '|')
        {
            return false;
        }

        var timeEnd = message.IndexOf('|', 4);
        if (timeEnd < 0)
        {
            return false;
        }

        var sourceEnd = message.IndexOf('|', timeEnd + 1);
        if (sourceEnd < 0
            || !long.TryParse(message.AsSpan(4, timeEnd - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
        {
            return false;
        }

        parsed = new RedisInvalidationMessage(message[2], micros, message[(timeEnd + 1)..sourceEnd], message[(sourceEnd + 1)..]);
        return true;
    }

    /// <summary>The core's view of a key or tag message; the key loses its braces and the provider's instance name.</summary>
    public bool TryToInvalidation(string instanceName, TimeSpan? delay, out CacheInvalidation invalidation)
    {
        invalidation = default;
        switch (Kind)
        {
            case 'k':
                // {instance + prefix + key}: only keys of this instance name are ours.
                if (Value.Length < instanceName.Length + 2 || Value[0] != '{' || Value[^1] != '}'
                    || string.CompareOrdinal(Value, 1, instanceName, 0, instanceName.Length) != 0)
                {
                    return false;
                }

                invalidation = new CacheInvalidation(CacheInvalidationKind.Key, Value[(1 + instanceName.Length)..^1], delay);
                return true;
            case 't':
                invalidation = new CacheInvalidation(CacheInvalidationKind.Tag, Value, delay);
                return true;
            case '*':
                invalidation = new CacheInvalidation(CacheInvalidationKind.All, string.Empty, delay);
                return true;
            default:
                return false;
        }
    }
}
