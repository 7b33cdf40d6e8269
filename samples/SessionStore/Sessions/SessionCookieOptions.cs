namespace SessionStore.Sessions;

/// <summary>The session cookie's name and the session's idle timeout (sliding: every request that reads it renews it).</summary>
public sealed record SessionCookieOptions(string CookieName, TimeSpan IdleTimeout);
