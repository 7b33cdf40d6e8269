namespace SessionStore.Configuration;

/// <summary>The session and sign-in lifetime.</summary>
public sealed class SessionSettings
{
    /// <summary>Gets or sets how long a session and a sign-in live without a request; every request renews them (sliding).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(20);
}
