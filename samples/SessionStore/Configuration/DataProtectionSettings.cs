namespace SessionStore.Configuration;

/// <summary>Where the Data Protection key ring lives (it encrypts the session, sign-in and anti-forgery cookies).</summary>
public sealed class DataProtectionSettings
{
    /// <summary>
    /// Gets or sets a directory every instance can read and write (a shared volume). Required when several instances
    /// serve the same users: a cookie written by one is unreadable by another that has a different key ring.
    /// Unset: ASP.NET Core's default for one machine.
    /// </summary>
    public string? KeysDirectory { get; set; }
}
