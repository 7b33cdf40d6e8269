using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Caching.Distributed;

namespace SessionStore.Sessions;

/// <summary>
/// ASP.NET Core's <see cref="DistributedSession"/> over the <see cref="IDistributedCache"/> that CachePatterns registers,
/// wrapped so that sign-out can remove the session's entry from the cache (the stock session can only empty it).
/// </summary>
public sealed class RevocableSessionStore(IDistributedCache cache, ILoggerFactory loggerFactory) : ISessionStore
{
    public ISession Create(string sessionKey, TimeSpan idleTimeout, TimeSpan ioTimeout, Func<bool> tryEstablishSession, bool isNewSessionKey) =>
        new RevocableSession(
            new DistributedSession(cache, sessionKey, idleTimeout, ioTimeout, tryEstablishSession, loggerFactory, isNewSessionKey),
            cache,
            sessionKey);
}
