namespace SessionStore.Sessions;

/// <summary>The "try again" answer when the session store does not answer: 503 with <c>Retry-After</c>, rendered by the status page.</summary>
public static class SessionUnavailable
{
    /// <summary>Set in <see cref="HttpContext.Items"/> when the request's change (a cart line, a sign-in) was not stored.</summary>
    public const string ChangeLostItem = "sessionstore:change-lost";

    public static void Answer(HttpContext context, bool changeLost)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (changeLost)
        {
            context.Items[ChangeLostItem] = true;
        }

        // Cookies of a change that was not stored (a rotated session, a sign-in) must not reach the browser.
        context.Response.Headers.Remove("Set-Cookie");
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
    }
}
