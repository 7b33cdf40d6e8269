using Microsoft.Extensions.Caching.Distributed;

namespace SessionStore.Sessions;

/// <summary>
/// Where each kind of session is stored. With the in-memory provider the two kinds are two caches with their own LRU
/// bounds, so a flood of anonymous sessions evicts anonymous sessions only; with Redis or memcached both kinds share the
/// server (its memory is the bound, and the rate limiter keeps anonymous floods small).
/// </summary>
public sealed class SessionCaches(IDistributedCache signedIn, IDistributedCache anonymous)
{
    /// <summary>The named cache that holds anonymous sessions when the provider is in memory.</summary>
    public const string AnonymousCacheName = "anonymous-sessions";

    /// <summary>The key namespace of sessions in the provider (the <c>IDistributedCache</c>'s <c>KeyPrefix</c>).</summary>
    public const string KeyPrefix = "session:";

    public IDistributedCache For(SessionKind kind) => kind == SessionKind.SignedIn ? signedIn : anonymous;
}
