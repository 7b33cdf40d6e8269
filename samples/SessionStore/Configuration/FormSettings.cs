namespace SessionStore.Configuration;

/// <summary>Limits on posted forms.</summary>
public sealed class FormSettings
{
    /// <summary>Gets or sets the largest form body accepted; larger posts get 413 and change nothing.</summary>
    public int MaxRequestBytes { get; set; } = 64 * 1024;
}
