using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>What a read script says it found (the first element of its reply).</summary>
internal enum ReadStatus
{
    /// <summary>No entry.</summary>
    Miss = 0,

    /// <summary>A fresh entry.</summary>
    Hit = 1,

    /// <summary>An entry past its logical expiry, kept for stale serving.</summary>
    Stale = 2,

    /// <summary>No fresh entry and another client holds the fill lease (the stale value, if any, travels along).</summary>
    LeaseHeldElsewhere = 3,

    /// <summary>The stored bytes are not an envelope (the read-only script leaves them; the others delete them).</summary>
    Corrupt = 9,
}

/// <summary>
/// The reply of the read scripts (<see cref="RedisScripts.Get"/>, <see cref="RedisScripts.GetPlain"/>,
/// <see cref="RedisScripts.GetReadOnly"/>): <c>{status, stored bytes, lease granted, corrupt entry deleted, ms since a stale
/// value expired, renew on the primary}</c>, the flags as 0/1. Short replies leave trailing fields out. This type and
/// <see cref="LuaDefinitions"/> are the one description of it; the scripts build replies with <c>reply(...)</c>.
/// </summary>
internal readonly record struct RedisReadReply(ReadStatus Status, byte[]? Stored, bool LeaseGranted, bool CorruptDeleted, long ExpiredForMs, bool Renew)
{
    /// <summary>The status codes as Lua locals (<c>MISS</c>, <c>HIT</c>, <c>STALE</c>, <c>HELD</c>, <c>CORRUPT</c>) and <c>reply</c>.</summary>
    public static readonly string LuaDefinitions =
        $"local MISS, HIT, STALE, HELD, CORRUPT = {(int)ReadStatus.Miss}, {(int)ReadStatus.Hit}, {(int)ReadStatus.Stale}, {(int)ReadStatus.LeaseHeldElsewhere}, {(int)ReadStatus.Corrupt}\n" +
        "local function reply(status, stored, lease, corrupt, late, renew) return {status, stored, lease or 0, corrupt or 0, late or 0, renew or 0} end\n";

    /// <summary>Reads a script's reply array.</summary>
    public static RedisReadReply Parse(RedisResult result)
    {
        var parts = (RedisResult[])result!;
        return new RedisReadReply(
            (ReadStatus)(int)parts[0],
            parts.Length > 1 ? (byte[]?)parts[1] : null,
            parts.Length > 2 && (long)parts[2] == 1,
            parts.Length > 3 && (long)parts[3] == 1,
            parts.Length > 4 ? (long)parts[4] : 0,
            parts.Length > 5 && (long)parts[5] == 1);
    }
}
