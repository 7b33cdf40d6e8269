using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using SessionStore.Configuration;

namespace SessionStore.Sessions;

/// <summary>
/// Gives each page request its <see cref="ShopSession"/>, loaded before authentication (the sign-in is bound to it). A
/// store that does not answer gets a 503 "try again" page here, before anything could mistake it for "no session".
/// Changes are stored by the pages before they answer (<c>StorePageModel</c>); whatever is left is stored at the end.
/// Background requests (<c>/healthz</c>) and re-executed error pages run without a session.
/// </summary>
public sealed class ShopSessionMiddleware(
    RequestDelegate next, SessionCaches caches, IDataProtectionProvider dataProtection, SessionCookieOptions options, SessionOutageLog outages, ILogger<ShopSession> logger)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("SessionStore.Session.v2");

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (BackgroundRequests.Matches(context.Request.Path) || context.Features.Get<IStatusCodeReExecuteFeature>() is not null)
        {
            await next(context);
            return;
        }

        var session = new ShopSession(context, caches, _protector, options, logger, ReadKey(context));
        var feature = new SessionFeature { Session = session };
        context.Features.Set<ISessionFeature>(feature);
        try
        {
            await session.LoadAsync(context.RequestAborted);
        }
        catch (SessionUnavailableException ex)
        {
            context.Features.Set<ISessionFeature?>(null);
            outages.Report(ex);
            SessionUnavailable.Answer(context, changeLost: false);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set<ISessionFeature?>(null);
        }

        if (session.HasPendingChanges)
        {
            try
            {
                await session.CommitAsync(context.RequestAborted);
            }
            catch (SessionUnavailableException ex)
            {
                SessionLog.LateCommitFailed(logger, ex);
            }
        }
    }

    private string? ReadKey(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(options.CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(value);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
        {
            return null; // tampered, foreign or from an old key ring: no session, a fresh one starts when needed
        }
    }

    private sealed class SessionFeature : ISessionFeature
    {
        public ISession Session { get; set; } = null!;
    }
}
