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
/// session (a random sign-in id stored in it). Sign-in moves the session to a new key (the cart comes along), so a
/// session cookie planted before sign-in is worthless after it; sign-out removes the session from the cache, so a copy
/// of the old cookies is worthless on every instance.
/// </summary>
public sealed class AccountService(UserRepository users, IPasswordHasher<StoreUser> hasher, SignInThrottle throttle)
{
    /// <summary>The claim carrying the sign-in id that the session must also hold.</summary>
    public const string SignInIdClaim = "sessionstore:signin";

    /// <summary>The session key holding the sign-in id.</summary>
    public const string SignInIdSessionKey = "signin";

    /// <summary>Set in <see cref="HttpContext.Items"/> when a sign-in cookie arrived but its session was gone.</summary>
    public const string SessionExpiredItem = "sessionstore:session-expired";

    // Verified when the user name is unknown, so a wrong name costs as long as a wrong password.
    private static readonly string UnknownUserHash = new PasswordHasher<StoreUser>().HashPassword(new StoreUser("", ""), Guid.NewGuid().ToString());

    /// <summary>
    /// Checks the throttle and the password; on success moves the session to a new signed-in key, signs in and returns
    /// the user. Otherwise signs nothing in and says why.
    /// </summary>
    public async Task<SignInOutcome> SignInAsync(HttpContext context, string userName, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = userName.Trim();
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.Check(name, client) is { } refusal)
        {
            return new SignInOutcome(null, refusal);
        }

        var found = await users.FindAsync(name, cancellationToken);
        if (found is not { } account)
        {
            hasher.VerifyHashedPassword(new StoreUser("", ""), UnknownUserHash, password);
            throttle.Failed(name, client);
            return new SignInOutcome(null, null);
        }

        var result = hasher.VerifyHashedPassword(account.User, account.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed)
        {
            throttle.Failed(name, client);
            return new SignInOutcome(null, null);
        }

        throttle.Succeeded(name);
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await users.UpdatePasswordHashAsync(account.User.Name, hasher.HashPassword(account.User, password), cancellationToken);
        }

        var session = (ShopSession)context.Session;
        await session.LoadAsync(cancellationToken);
        session.Rotate(SessionKind.SignedIn);
        var signInId = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        session.SetString(SignInIdSessionKey, signInId);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, account.User.Name), new Claim(ClaimTypes.GivenName, account.User.DisplayName), new Claim(SignInIdClaim, signInId),
                .. account.User.Roles.Select(static role => new Claim(ClaimTypes.Role, role)),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return new SignInOutcome(account.User, null);
    }

    /// <summary>Removes the session (cart and sign-in id) from the cache, deletes its cookie and the sign-in cookie.</summary>
    public static async Task SignOutAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = (ShopSession)context.Session;
        await session.LoadAsync(context.RequestAborted);
        session.Revoke();
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Accepts a sign-in cookie only while the session holds the same sign-in id: expired, revoked or foreign sessions
    /// end the sign-in. Runs on every authenticated request (the session middleware has loaded the session already; a
    /// session store that does not answer was answered 503 there, so it never ends a sign-in here).
    /// </summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HttpContext.Features.Get<ISessionFeature>() is null)
        {
            // A background request or an error page (no session): anonymous, and it renews nothing.
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
}

/// <summary>The result of a sign-in: the user, or why not (a throttle refusal, or null for a wrong name or password).</summary>
public sealed record SignInOutcome(StoreUser? User, SignInRefusal? Refusal);
