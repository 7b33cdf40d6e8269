namespace CachePatterns.Redis.Internal;

/// <summary>
/// The scripts of <see cref="RedisScripts"/> that change a value, each with a publish step at its end: the key's
/// invalidation goes out on the channel of <see cref="RedisInvalidationChannel"/> from inside the script, so no subscriber
/// can hear it before the change is visible (Redis runs a script atomically and writes the message to subscribers' buffers
/// after the writes above it). The scripts themselves are unchanged: each body runs as a function and its reply is returned.
/// </summary>
/// <remarks>
/// <para>Two ARGV are appended after the script's own: the channel (empty: publish nothing) and this client's source id, so
/// the publishing client can skip its own messages. The message (<see cref="RedisInvalidationMessage"/>) is
/// <c>1|k|&lt;server µs&gt;|&lt;source&gt;|&lt;value key&gt;</c>; the kind letter leaves room for tags (<c>t</c>) and
/// everything (<c>*</c>).</para>
/// <para>A fill publishes only when it stored (a refused fill changed nothing); every other script publishes whatever it
/// did, since a copy in another process may outlive the entry here (the key may be gone already).</para>
/// </remarks>
internal static class RedisPublishingScripts
{
    public static readonly string Fill = WithPublish(RedisScripts.Fill, onlyWhenStored: true);

    public static readonly string Set = WithPublish(RedisScripts.Set);

    public static readonly string Invalidate = WithPublish(RedisScripts.Invalidate);

    public static readonly string CompleteWrite = WithPublish(RedisScripts.CompleteWrite);

    public static readonly string AbortWrite = WithPublish(RedisScripts.AbortWrite);

    /// <summary>Wraps a script's body (everything after its <c>#!lua</c> line) in a function and publishes after it.</summary>
    internal static string WithPublish(string script, bool onlyWhenStored = false)
    {
        var firstLine = script.IndexOf('\n', StringComparison.Ordinal);
        var flags = script[..(firstLine + 1)];
        var body = script[(firstLine + 1)..];
        var condition = onlyWhenStored ? " and cp_result == 1" : string.Empty;
        return flags + "local function cp_body()\n" + body + "\nend\n" + $$"""
            local cp_result = cp_body()
            local cp_channel = ARGV[#ARGV - 1]
            if cp_channel ~= nil and cp_channel ~= ''{{condition}} then
              local t = redis.call('TIME')
              redis.call('PUBLISH', cp_channel, '1|k|' .. t[1] .. string.format('%06d', tonumber(t[2])) .. '|' .. ARGV[#ARGV] .. '|' .. KEYS[1])
            end
            return cp_result
            """;
    }
}
