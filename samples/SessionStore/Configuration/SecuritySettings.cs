namespace SessionStore.Configuration;

/// <summary>Limits against floods and password guessing (per instance: with N instances an attacker gets N times as many).</summary>
public sealed class SecuritySettings
{
    /// <summary>Gets or sets how many POSTs (sign-in, add to cart) one client address may send per minute while signed out; more get 429.</summary>
    public int AnonymousPostsPerMinute { get; set; } = 60;

    /// <summary>Gets or sets how many failed sign-ins in a row lock an account for <see cref="SignInLockout"/>.</summary>
    public int SignInFailuresPerAccount { get; set; } = 5;

    /// <summary>Gets or sets how many failed sign-ins from one client address (any accounts) within <see cref="SignInLockout"/> block that address for it.</summary>
    public int SignInFailuresPerClient { get; set; } = 20;

    /// <summary>Gets or sets how long a locked account or client address waits, and the window failures are counted in.</summary>
    public TimeSpan SignInLockout { get; set; } = TimeSpan.FromMinutes(5);
}
