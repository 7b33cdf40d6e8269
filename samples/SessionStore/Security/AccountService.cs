using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Identity;
using SessionStore.Data;
using SessionStore.Sessions;

namespace SessionStore.Security;

/// <summary>
/// Signs users in and out. A sign-in is two things that must agree: the sign-in cookie (who) and the server-side
/// session (a random sign-in id stored in it). Signing out revokes the session in the cache, so a copy of the old
/// cookies is worthless on every instance, not only in the browser that signed out.
/// </summary>
public sealed class AccountService(UserRepository users, IPasswordHasher<StoreUser> hasher)
{
    /// <summary>The claim carrying the sign-in id that the session must also hold.</summary>
    public const string SignInIdClaim = "sessionstore:signin";

    /// <summary>The session key holding the sign-in id.</summary>
    public const string SignInIdSessionKey = "signin";

    // Verified when the user name is unknown, so a wrong name costs as long as a wrong password.
    private static readonly string UnknownUserHash = new PasswordHasher<StoreUser>().HashPassword(new StoreUser("", ""), Guid.NewGuid().ToString());

    /// <summary>Checks the password; on success signs in and returns the user, else returns null (and signs nothing in).</summary>
    public async Task<StoreUser?> SignInAsync(HttpContext context, string userName, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var found = await users.FindAsync(userName.Trim(), cancellationToken);
        if (found is not { } account)
        {
            hasher.VerifyHashedPassword(new StoreUser("", ""), UnknownUserHash, password);
            return null;
        }

        var result = hasher.VerifyHashedPassword(account.User, account.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed)
        {
            return null;
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await users.UpdatePasswordHashAsync(account.User.Name, hasher.HashPassword(account.User, password), cancellationToken);
        }

        var signInId = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await context.Session.LoadAsync(cancellationToken);
        context.Session.SetString(SignInIdSessionKey, signInId);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, account.User.Name), new Claim(ClaimTypes.GivenName, account.User.DisplayName), new Claim(SignInIdClaim, signInId)],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return account.User;
    }

    /// <summary>Removes the session (cart and sign-in id) from the cache, deletes its cookie and the sign-in cookie.</summary>
    public static async Task SignOutAsync(HttpContext context, string sessionCookieName)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Session is RevocableSession session)
        {
            session.Revoke();
        }
        else
        {
            context.Session.Clear();
        }

        context.Response.Cookies.Delete(sessionCookieName);
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Accepts a sign-in cookie only while the session holds the same sign-in id: expired, revoked or foreign sessions
    /// end the sign-in. Runs on every authenticated request (the session is loaded once per request anyway).
    /// </summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HttpContext.Features.Get<ISessionFeature>() is null)
        {
            // A background request (no session, see BackgroundRequests): anonymous, and it renews nothing.
            context.RejectPrincipal();
            return;
        }

        var expected = context.Principal?.FindFirst(SignInIdClaim)?.Value;
        var session = context.HttpContext.Session;
        await session.LoadAsync(context.HttpContext.RequestAborted);
        if (expected is not null && string.Equals(session.GetString(SignInIdSessionKey), expected, StringComparison.Ordinal))
        {
            return;
        }

        context.RejectPrincipal();
        context.HttpContext.Items[SessionExpiredItem] = true;
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>Set in <see cref="HttpContext.Items"/> when a sign-in cookie arrived but its session was gone.</summary>
    public const string SessionExpiredItem = "sessionstore:session-expired";
}
